"""Real local servers for delivery tests: an HTTP recorder and an SMTP sink, on 127.0.0.1 only."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

from helpers import free_port
from salesradar.delivery import verify


def wait_for(condition: Callable[[], bool], timeout: float = 10.0, what: str = "") -> None:
    """Poll ``condition`` until true; fail after ``timeout`` seconds (never a blind sleep)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or condition}")
        time.sleep(0.01)


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Recorder:
    """What an HTTP receiver saw, and how it behaves.

    ``secret``: verify the HMAC signature (401 if wrong). ``token``: require this Bearer token
    (401 if wrong). ``slow_first``: hold the first N answers until ``release`` is set or 3 s pass.
    Requests carrying an ``Idempotency-Key`` already seen are acknowledged but not processed.
    """

    secret: str | None = None
    token: str | None = None
    slow_first: int = 0
    received: list[Request] = field(default_factory=list)
    processed: list[Request] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, request: Request) -> tuple[int, bytes]:
        with self.lock:
            self.received.append(request)
            position = len(self.received)
            if self.secret is not None and not verify(
                self.secret, request.body, request.headers.get("X-Salesradar-Timestamp", ""),
                request.headers.get("X-Salesradar-Signature", ""),
            ):
                return 401, b'{"error": "bad signature"}'
            if self.token is not None and (
                request.headers.get("Authorization") != f"Bearer {self.token}"
            ):
                return 401, b'{"message": "authentication credentials not found"}'
            key = request.headers.get("Idempotency-Key")
            if key is None or key not in {r.headers.get("Idempotency-Key") for r in self.processed}:
                self.processed.append(request)
        if position <= self.slow_first:
            self.release.wait(3.0)
        return (201, b'{"id": "1"}') if self.token else (200, b"ok")


@contextmanager
def http_server(recorder: Recorder, port: int = 0) -> Iterator[str]:
    """Serve ``recorder`` on 127.0.0.1 in a thread; yield the base URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            status, answer = recorder.handle(Request(self.path, dict(self.headers), body))
            try:
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
                pass

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        recorder.release.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


class MailSink:
    """An aiosmtpd handler that keeps every message it receives, parsed."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        parsed = message_from_bytes(envelope.original_content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 OK"


@contextmanager
def smtp_server() -> Iterator[tuple[MailSink, int]]:
    """A real SMTP server on 127.0.0.1 and a random port; yield (sink, port)."""
    sink = MailSink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()
