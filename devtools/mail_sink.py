"""A local SMTP server that keeps every mail it receives, with a page listing them (and a JSON listing for tests).

`make run` starts it beside the app (SMTP_HOST/SMTP_PORT point at it) and prints its page's URL; the tests start
one too, so the app's mails travel over real SMTP and are read back from here:

    sink = MailSink().start()          # SMTP on sink.smtp_port, the page on sink.url
    sink.messages(to="a@example.lu")   # what arrived, oldest first
    GET {sink.url}/messages.json       # the same, as JSON: [{id, message_id, from, to, subject, text, received_at}]

`stop()` closes the SMTP port (the page stays readable), `start()` opens it again on the same port: the tests use
that to see the app's outbox retry a mail server that is down.
"""

from __future__ import annotations

import html
import json
import logging
import re
import threading
from datetime import UTC, datetime
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from aiosmtpd.controller import Controller

from devtools.procs import pick_free_port

_URL = re.compile(r"https?://[^\s<>\"']+")

# aiosmtpd logs every SMTP line at INFO ("mail.log"): in `make run`'s console that drowns the app's own lines
logging.getLogger("mail.log").setLevel(logging.WARNING)


class _Handler:
    def __init__(self, sink: MailSink) -> None:
        self.sink = sink

    async def handle_DATA(self, server, session, envelope):
        self.sink._received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content or envelope.content)
        return "250 Message accepted for delivery"


class MailSink:
    def __init__(self, *, host: str = "127.0.0.1", smtp_port: int | None = None, http_port: int | None = None):
        self.host = host
        self.smtp_port = smtp_port or pick_free_port()
        self.http_port = http_port or pick_free_port()
        self._messages: list[dict] = []
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._controller: Controller | None = None
        self._http: ThreadingHTTPServer | None = None

    # ---------------------------------------------------------------------------------------------- lifecycle
    def start(self) -> MailSink:
        if self._controller is None:
            self._controller = Controller(_Handler(self), hostname=self.host, port=self.smtp_port,
                                          ready_timeout=10.0)
            self._controller.start()
        if self._http is None:
            self._http = ThreadingHTTPServer((self.host, self.http_port), self._page_handler())
            threading.Thread(target=self._http.serve_forever, name="mail-sink-page", daemon=True).start()
        return self

    def stop(self) -> None:
        """Close the SMTP port (a mail server that is down); the page keeps answering."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def close(self) -> None:
        self.stop()
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
            self._http = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.http_port}"

    # ---------------------------------------------------------------------------------------------- messages
    def _received(self, mail_from: str, rcpt_tos: list[str], data: bytes) -> None:
        message = message_from_bytes(data, policy=policy.default)
        body = message.get_body(preferencelist=("plain", "html"))
        text = body.get_content() if body is not None else ""
        with self._arrived:
            self._messages.append({
                "id": len(self._messages) + 1,
                "message_id": str(message.get("Message-ID", "")),
                "from": str(message.get("From", mail_from)),
                "to": [addr.lower() for addr in rcpt_tos],
                "subject": str(message.get("Subject", "")),
                "text": text,
                "received_at": datetime.now(UTC).isoformat(),
            })
            self._arrived.notify_all()

    def messages(self, *, to: str | None = None) -> list[dict]:
        with self._lock:
            found = list(self._messages)
        if to is not None:
            found = [m for m in found if to.lower() in m["to"]]
        return found

    def wait_for(self, *, to: str, count: int = 1, timeout: float = 20.0) -> list[dict]:
        """The mails to `to` once `count` have arrived (AssertionError with what did arrive after `timeout`)."""
        deadline = threading.Event()
        timer = threading.Timer(timeout, lambda: (deadline.set(), self._notify()))
        timer.start()
        try:
            with self._arrived:
                while len([m for m in self._messages if to.lower() in m["to"]]) < count and not deadline.is_set():
                    self._arrived.wait(0.5)
        finally:
            timer.cancel()
        found = self.messages(to=to)
        assert len(found) >= count, f"{len(found)} mail(s) to {to}, expected {count}: {found}"
        return found

    def _notify(self) -> None:
        with self._arrived:
            self._arrived.notify_all()

    # ---------------------------------------------------------------------------------------------- the page
    def _page_handler(self):
        sink = self

        class Page(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                parsed = urlparse(self.path)
                to = (parse_qs(parsed.query).get("to") or [None])[0]
                if parsed.path == "/messages.json":
                    body = json.dumps(sink.messages(to=to)).encode()
                    self._send(200, "application/json", body)
                elif parsed.path == "/favicon.ico":
                    self._send(204, "image/x-icon", b"")
                elif parsed.path == "/":
                    self._send(200, "text/html; charset=utf-8", sink.render(to=to).encode())
                else:
                    self._send(404, "text/plain", b"not found")

            def _send(self, code: int, content_type: str, body: bytes) -> None:
                self.send_response(code)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Page

    def render(self, *, to: str | None = None) -> str:
        def linked(text: str) -> str:
            escaped = html.escape(text)
            return _URL.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', escaped)

        items = []
        for m in reversed(self.messages(to=to)):
            items.append(
                f'<article class="mail"><h2>{html.escape(m["subject"])}</h2>'
                f'<p class="meta">To {html.escape(", ".join(m["to"]))} · from {html.escape(m["from"])} · '
                f'{html.escape(m["received_at"][:19].replace("T", " "))} UTC · {html.escape(m["message_id"])}</p>'
                f'<pre>{linked(m["text"])}</pre></article>')
        state = "receiving" if self.running else "stopped (SMTP port closed)"
        return ("<!doctype html><html lang=en><head><meta charset=utf-8><title>Mail sink</title><style>"
                "body{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem}"
                ".mail{border:1px solid #ccc;border-radius:8px;padding:.5rem 1rem;margin:1rem 0}"
                ".meta{color:#555;font-size:.85rem}pre{white-space:pre-wrap;font-family:inherit}</style></head>"
                f"<body><h1>Mail sink</h1><p>SMTP on {self.host}:{self.smtp_port}, {state}. "
                f"{len(items)} mail(s); newest first. <a href=\"/messages.json\">JSON</a></p>"
                + ("".join(items) or "<p>No mail yet.</p>") + "</body></html>")
