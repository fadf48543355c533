"""The bare limit for the upload benchmark: a minimal FastAPI app that receives a multipart upload and discards it.

Same FastAPI/Starlette multipart parsing (UploadFile spooled to a temp file) and the same uvicorn as
`marketplace serve`, nothing else: `python -m benchmarks.bare_upload_app --port P`.
"""

from __future__ import annotations

import argparse
from typing import Annotated

import uvicorn
from fastapi import FastAPI, File, UploadFile

app = FastAPI()


@app.get("/api/health")
def health() -> dict:
    return {"status": "ok"}


@app.post("/upload")
async def upload(file: Annotated[UploadFile, File()]) -> dict:
    size = 0
    while chunk := await file.read(1 << 20):
        size += len(chunk)
    return {"size": size}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(app, host=args.host, port=args.port, proxy_headers=True)  # as `marketplace serve` runs it


if __name__ == "__main__":
    main()
