"""Raw HTTP over a socket: for what only a socket can do (announce a body and never send it,
send it slowly, cut it short) and for reading the bytes a server really answers."""

from __future__ import annotations

import re
import socket


def exchange(
    port: int, data: bytes, *, timeout: float = 5.0, close_write: bool = False
) -> tuple[int | None, dict, bytes]:
    """Send raw bytes, read one response: (status, or None if none came in time; headers; body).

    `close_write` half-closes after sending: the client says it has nothing more to send."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        if close_write:
            sock.shutdown(socket.SHUT_WR)
        received = b""
        try:
            while not _complete(received):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                received += chunk
        except (TimeoutError, ConnectionResetError):
            pass
    return _parse(received)


def _complete(received: bytes) -> bool:
    head, sep, body = received.partition(b"\r\n\r\n")
    if not sep:
        return False
    match = re.search(rb"^content-length:\s*(\d+)", head, re.I | re.M)
    return bool(match) and len(body) >= int(match.group(1))


def _parse(received: bytes) -> tuple[int | None, dict, bytes]:
    head, _, body = received.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    match = re.match(r"HTTP/1\.[01] (\d{3})", lines[0])
    if not match:
        return None, {}, b""
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(match.group(1)), headers, body


def post_head(
    path: str, content_length: int | None = None, content_type: str = "application/json", extra: str = ""
) -> bytes:
    """The head of a POST; with content_length None it announces a chunked body."""
    length = "Transfer-Encoding: chunked\r\n" if content_length is None else f"Content-Length: {content_length}\r\n"
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n{length}{extra}\r\n").encode()
