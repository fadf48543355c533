FROM python:3.11-slim
WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
COPY requirements.lock pyproject.toml README.md ./
RUN pip install --no-cache-dir -r requirements.lock
COPY marketplace ./marketplace
COPY migrations ./migrations
COPY alembic.ini ./
COPY frontend ./frontend
RUN pip install --no-cache-dir --no-deps -e . && useradd --create-home app && mkdir -p /data && chown app /data
USER app
VOLUME /data
EXPOSE 8000
CMD ["marketplace", "serve"]
