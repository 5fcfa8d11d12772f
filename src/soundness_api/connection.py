"""The HTTP/1.1 connection under the function: uvicorn's h11 protocol, with deadlines and bounds.

functions-framework's ASGI mode runs gunicorn with uvicorn_worker.UvicornWorker; the worker's
CONFIG_KWARGS are its documented customisation point, and uvicorn's `http` option takes a
protocol class. install() sets both in gunicorn's master (which imports main.py before it
forks), so the worker starts with them. What this adds to uvicorn's own protocol:
- a request line and headers of at most MAX_HEAD_BYTES: h11 parses them in linear time and
  refuses more with 414 (a request line that long) or 431 (headers);
- every error the server answers before the function sees the request is JSON, like the
  function's own (400 malformed HTTP, 414, 431, 501 unknown transfer coding, 408), and so
  are the framework's own refusals around the function (json_errors: 405 for a method its
  route table lacks, such as TRACE; 404 for /robots.txt and /favicon.ico);
- a client has CLIENT_TIMEOUT_SECONDS to send a request's head after connecting or after the
  previous answer, then gets 408 (if it sent part of one) and the connection is closed; and as
  long again for the body, which then ends for the function with scope["extensions"] marking
  BODY_DEADLINE (body.read answers 408). A body that arrives with its head (most do) costs no
  timer at all;
- a body counts its framing toward MAX_BODY_BYTES (a chunked body's size lines, extensions and
  line ends: what arrives on the wire) and comes in at most MAX_CHUNKS chunks: h11 spends
  about as much CPU on a 1-byte chunk as on a hundred bytes of a plain body, so a body of tiny
  chunks would otherwise cost 60 times a plain one. Beyond either, the body ends for the
  function marked BODY_OVERRUN (body.read answers 413) and the rest is dropped unparsed;
- a request with both Content-Length and Transfer-Encoding (RFC 9112 section 6.1: a smuggling
  shape), or with a header folded over lines (obs-fold, section 5.2), is refused with 400 and
  the connection closed, so nothing pipelined after it is answered;
- a client that half-closes mid-body gets the function's answer (400) before the close;
- a connection closed while the client is still sending its body is closed cleanly: the
  answer is flushed, writing is shut down, and what still arrives is read and dropped until
  the client closes or LINGER_SECONDS pass, so the client reads the answer rather than a reset;
- at shutdown, a connection between requests whose next request has already arrived (unread in
  the socket, or part-parsed) answers it, with Connection: close, before closing: uvicorn closes
  every idle connection at once, and closing over unread bytes resets it; a body still arriving
  gets at most SHUTDOWN_BODY_SECONDS more (then 408, as above), and lingers SHUTDOWN_LINGER_SECONDS,
  so that a stalled client cannot hold the instance past Cloud Run's 10 s from SIGTERM to SIGKILL.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import re
import struct
import termios
from collections.abc import Callable
from typing import Any, cast

import h11
from uvicorn.protocols.http.h11_impl import STATUS_PHRASES, H11Protocol

from . import logs

# The uvicorn this protocol was written against: it overrides H11Protocol's methods and reads its
# private state (conn, cycle, transport), so another version is read anew before it is pinned
# (tests/test_uvicorn_pin.py fails until this says the version reviewed).
UVICORN_VERSION = "0.54.0"
MAX_HEAD_BYTES = 16 * 1024  # request line and headers together; h11's default, made explicit
LINGER_SECONDS = 5.0
SHUTDOWN_BODY_SECONDS = 4.0
SHUTDOWN_LINGER_SECONDS = 1.0
BODY_DEADLINE = "soundness.body_deadline"  # the scope["extensions"] key that says the body's time ran out
BODY_OVERRUN = "soundness.body_overrun"  # ... that says its framing took it over the limit (too long, too many chunks)
# Real clients send a chunk per buffer (Go and Java: 4 KiB, curl: 64 KiB) or per write of a
# streamed body: a few hundred for a 1 MiB body. 1-byte chunks reach this bound after 24 KB.
MAX_CHUNKS = 4096
_HEAD_END = re.compile(rb"\n\r?\n")  # h11's end of a head (it takes bare LF line ends)
_FOLDED = re.compile(rb"\n[ \t]")  # a header line continued on the next (obs-fold)

PROTOCOL_ERRORS = {  # status -> (code, message), for answers given outside the function
    400: ("malformed_request", "the request is not valid HTTP/1.1"),
    404: ("not_found", "no such route"),
    405: ("method_not_allowed", "this method is not allowed"),
    408: ("request_timeout", "the request did not arrive in time"),
    414: ("uri_too_long", f"the request line may be at most {MAX_HEAD_BYTES} bytes"),
    431: ("headers_too_large", f"the request line and headers may be at most {MAX_HEAD_BYTES} bytes"),
    500: ("internal", "internal error"),
    501: ("not_implemented", "only Transfer-Encoding: chunked is supported"),
}
KEPT_HEADERS = (b"connection",)  # not Allow: the framework's lists its methods, not the route's


def install(
    client_timeout: float,
    allow: Callable[[str], str],
    max_body_bytes: int = 1 << 20,
    refusal: Callable[[str, int], bytes] | None = None,
) -> None:
    """client_timeout: seconds for a request's head; allow(path): the Allow header of a path;
    max_body_bytes: what a body may take on the wire, framing included; refusal(path, status): the
    body of a framework's refusal of a request for path (json_errors)."""
    from uvicorn_worker import UvicornWorker

    EdgeProtocol.client_timeout = client_timeout
    EdgeProtocol.max_body_bytes = max_body_bytes
    EdgeProtocol.allow = staticmethod(allow)
    if refusal is not None:
        EdgeProtocol.refusal = staticmethod(refusal)
    # No "server: uvicorn" header: it tells a prober the stack, and costs a header per answer.
    UvicornWorker.CONFIG_KWARGS = {
        **UvicornWorker.CONFIG_KWARGS,
        "http": EdgeProtocol,
        "server_header": False,
        "h11_max_incomplete_event_size": MAX_HEAD_BYTES,
    }


def error_body(status: int, problem: str | None = None) -> bytes:
    code, message = PROTOCOL_ERRORS.get(status, PROTOCOL_ERRORS[400])
    details = [{"field": None, "problem": problem}] if problem else []
    return json.dumps({"error": {"code": code, "message": message, "details": details}}).encode()


def json_errors(app, allow: Callable[[str], str], refusal: Callable[[str, int], bytes] | None = None):
    """The ASGI app, with any error answer that is not JSON replaced by the JSON error of its
    status. Ours always are JSON; functions-framework's Starlette routes answer a few in text
    (a 405 for a method outside its list, such as TRACE: given the Allow of our route; a 404 for
    a path its router cannot take). refusal(path, status): that JSON body, in the shape of the
    protocol of the path (request_cycle.Service.refusal_body); this module's own by default."""

    async def app_with_json_errors(scope, receive, send):
        if scope["type"] != "http":
            return await app(scope, receive, send)
        replaced = False

        async def send_json(message):
            nonlocal replaced
            if replaced:
                return  # the text body of a replaced answer
            if (
                message["type"] == "http.response.start"
                and message["status"] >= 400
                and not any(
                    k.lower() == b"content-type" and v.startswith(b"application/json") for k, v in message["headers"]
                )
            ):
                replaced = True
                body = refusal(scope["path"], message["status"]) if refusal else error_body(message["status"])
                logs.emit(
                    "WARNING",
                    f"{scope['method']} {scope['path'][:200]} {message['status']} (framework)",
                    httpRequest={
                        "requestMethod": scope["method"],
                        "requestUrl": scope["path"][:200],
                        "status": message["status"],
                    },
                )
                headers = [(k, v) for k, v in message["headers"] if k.lower() in KEPT_HEADERS]
                if message["status"] == 405:
                    headers.append((b"allow", allow(scope["path"]).encode()))
                await send(
                    {
                        **message,
                        "headers": [
                            *headers,
                            (b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
            await send(message)

        await app(scope, receive, send_json)

    return app_with_json_errors


class BodyOverrun(h11.RemoteProtocolError):
    """A body whose bytes on the wire or whose chunks went past the bounds."""


class _Connection(h11.Connection):
    """h11's connection, keeping the protocol error it raised (uvicorn drops it), and refusing
    what h11 accepts but we do not: a head over its size limit even when it arrived whole (h11
    checks only heads still arriving), a folded header line, Content-Length beside
    Transfer-Encoding, and a body past its bounds on the wire (BodyOverrun)."""

    error: h11.RemoteProtocolError | None = None

    def __init__(self, our_role, max_incomplete_event_size: int, max_body_bytes: int) -> None:
        super().__init__(our_role, max_incomplete_event_size)
        self.max_body_bytes = max_body_bytes
        self.body_wire_bytes = 0  # of the request being received: framing included
        self.body_chunks = 0

    def next_event(self) -> Any:
        try:
            state = self.their_state
            if state is h11.IDLE:
                self._refuse_folded_head()
            before = len(self._receive_buffer)
            event = super().next_event()
            if state is h11.SEND_BODY:
                self._count_body(before - len(self._receive_buffer), event)
            elif type(event) is h11.Request:
                self._check_request(event)
            return event
        except h11.RemoteProtocolError as exc:
            self.error = exc
            raise

    def _refuse_folded_head(self) -> None:
        data = self._receive_buffer._data  # searched in place: the head is not copied
        end = _HEAD_END.search(data, 0, self._max_incomplete_event_size + 4)
        if end is not None and _FOLDED.search(data, 0, end.start()):
            raise h11.RemoteProtocolError("a header line folded over lines (obs-fold)", error_status_hint=400)

    def _check_request(self, event: h11.Request) -> None:
        limit = self._max_incomplete_event_size
        if len(event.target) > limit:
            raise h11.RemoteProtocolError("request line too long", error_status_hint=414)
        if len(event.target) + sum(len(k) + len(v) + 4 for k, v in event.headers) > limit:
            raise h11.RemoteProtocolError("headers too large", error_status_hint=431)
        names = {name for name, _ in event.headers}  # h11 gives them in lower case
        if b"content-length" in names and b"transfer-encoding" in names:
            raise h11.RemoteProtocolError("Content-Length and Transfer-Encoding together", error_status_hint=400)
        self.body_wire_bytes = self.body_chunks = 0

    def _count_body(self, consumed: int, event: Any) -> None:
        self.body_wire_bytes += consumed
        if type(event) is h11.Data and event.chunk_start:
            self.body_chunks += 1
        if self.body_wire_bytes > self.max_body_bytes:
            raise BodyOverrun(f"the body took more than {self.max_body_bytes} bytes on the wire, framing included")
        if self.body_chunks > MAX_CHUNKS:
            raise BodyOverrun(f"the body came in more than {MAX_CHUNKS} chunks")


class _Transport:
    """The socket's transport, whose writes within one turn of the event loop go out as one
    (an answer's head and body: one send, not two), and whose close() lingers while the
    client is still sending."""

    def __init__(self, transport, protocol: EdgeProtocol):
        self._transport = transport
        self._protocol = protocol
        self._pending: list[bytes] = []
        self.lingering = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)

    def write(self, data: bytes) -> None:
        if data:
            if not self._pending:
                self._protocol.loop.call_soon(self._flush)
            self._pending.append(data)

    def _flush(self) -> None:
        if self._pending and not self._transport.is_closing():
            self._transport.write(b"".join(self._pending))
        self._pending.clear()

    def is_closing(self) -> bool:
        return self.lingering or self._transport.is_closing()

    def close(self) -> None:
        protocol = self._protocol
        if self.lingering or self._transport.is_closing():
            return
        self._flush()
        if protocol.conn.their_state not in (h11.SEND_BODY, h11.ERROR) or protocol.eof:
            self._transport.close()
            return
        self.lingering = True
        self._transport.resume_reading()
        self._transport.write_eof()  # the answer goes out, then FIN; reading goes on
        linger = SHUTDOWN_LINGER_SECONDS if protocol.shutting_down else LINGER_SECONDS
        protocol.loop.call_later(linger, self._transport.close)


def _unread_bytes(transport) -> int:
    """How many bytes wait in the socket's receive buffer (FIONREAD), unread by the event loop."""
    sock = transport.get_extra_info("socket")
    try:
        return struct.unpack("i", fcntl.ioctl(sock.fileno(), termios.FIONREAD, b"\0" * 4))[0]
    except (AttributeError, OSError):
        return 0


class EdgeProtocol(H11Protocol):
    client_timeout = 10.0
    max_body_bytes = 1 << 20
    allow: Callable[[str], str] = staticmethod(lambda path: "OPTIONS")
    refusal: Callable[[str, int], bytes] | None = None

    def __init__(self, config, server_state, app_state, _loop=None) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.app = json_errors(self.app, self.allow, self.refusal)
        # Ours as ours: uvicorn types self.conn and self.transport as h11's and asyncio's.
        self.conn = self._conn = _Connection(
            h11.SERVER, config.h11_max_incomplete_event_size or MAX_HEAD_BYTES, self.max_body_bytes
        )
        self._transport: _Transport | None = None
        self.eof = False
        self.overrun = False  # the body went past its bounds: what still arrives is dropped
        self.shutting_down = False
        self.closing_after_answer = False  # shutting down: the request under way is the last
        self._deadline: asyncio.TimerHandle | None = None
        self._body_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport) -> None:
        self._transport = _Transport(transport, self)
        # A proxy, not a subclass: asyncio.Transport's own methods would shadow the delegation.
        super().connection_made(cast(asyncio.Transport, self._transport))
        self._arm_deadline()

    @property
    def _lingering(self) -> bool:
        return self._transport is not None and self._transport.lingering

    def connection_lost(self, exc: Exception | None) -> None:
        for timer in (self._deadline, self._body_deadline):
            if timer is not None:
                timer.cancel()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._lingering or self.overrun:
            return  # a body nobody will read: dropped unparsed
        super().data_received(data)
        cycle = self.cycle
        if self.closing_after_answer and cycle is not None:
            cycle.keep_alive = False
        if cycle is not None and cycle.more_body and not cycle.response_complete:
            if self._body_deadline is None:
                seconds = min(self.client_timeout, SHUTDOWN_BODY_SECONDS) if self.shutting_down else self.client_timeout
                self._body_deadline = self.loop.call_later(seconds, self._body_late, cycle)
        elif self._body_deadline is not None:
            self._body_deadline.cancel()
            self._body_deadline = None

    def _body_late(self, cycle) -> None:
        """The body did not all arrive in time: it ends here for the function, marked so."""
        self._body_deadline = None
        self._end_body(cycle, BODY_DEADLINE)

    def _end_body(self, cycle, mark: str) -> None:
        """The body ends here for the function, marked `mark`; the connection closes after its answer."""
        if cycle is self.cycle and cycle.more_body and not cycle.response_complete:
            cycle.scope.setdefault("extensions", {})[mark] = {}  # an ASGI extension's value is a dict
            cycle.more_body = False
            cycle.keep_alive = False
            cycle.message_event.set()

    # asyncio.Protocol's contract: True keeps the transport open (uvicorn annotates its own None).
    def eof_received(self) -> bool | None:  # type: ignore[override]
        self.eof = True
        cycle = self.cycle
        if self._lingering or cycle is None or cycle.response_complete or not cycle.more_body:
            return None  # the transport closes itself
        # Half-closed mid-body: the function sees the body end short of its length (a 400) and
        # can still answer it; the connection closes after that answer.
        cycle.more_body = False
        cycle.keep_alive = False
        cycle.message_event.set()
        return True

    def shutdown(self) -> None:
        self.shutting_down = True
        cycle = self.cycle
        if cycle is None or cycle.response_complete:
            if self.conn.trailing_data[0] or _unread_bytes(self.transport):
                self.closing_after_answer = True  # data_received takes the request; its answer closes
                return
        elif self._body_deadline is not None and self._body_deadline.when() > self.loop.time() + SHUTDOWN_BODY_SECONDS:
            self._body_deadline.cancel()
            self._body_deadline = self.loop.call_later(SHUTDOWN_BODY_SECONDS, self._body_late, cycle)
        super().shutdown()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm_deadline()

    def _arm_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        self._deadline = self.loop.call_later(self.client_timeout, self._deadline_passed)

    def _deadline_passed(self) -> None:
        """No request head within the deadline since the connection opened or last answer."""
        if self.transport.is_closing() or (self.cycle is not None and not self.cycle.response_complete):
            return  # closed already, or the function has the request: it keeps its own deadline
        if self.conn.our_state is h11.IDLE and self.conn.trailing_data[0]:
            self._refuse(408, "no complete request head within the deadline")
        else:
            self.transport.close()

    def send_400_response(self, msg: str) -> None:
        error = self._conn.error
        if isinstance(error, BodyOverrun) and self.cycle is not None:
            # The function is reading this body: it answers 413 itself, with its log line.
            self.overrun = True
            self._end_body(self.cycle, BODY_OVERRUN)
            return
        status = getattr(error, "error_status_hint", 400)
        pending = self.conn.trailing_data[0]
        if status == 431 and pending and b"\n" not in pending:
            status = 414  # still arriving, and the request line alone is over the limit
        self._refuse(status, str(error)[:200] if error and status in (400, 501) else None)

    def _refuse(self, status: int, problem: str | None) -> None:
        """Answer with a JSON error and close; written as bytes, since h11 answers only a
        request it has parsed (a head that never finished is not one)."""
        if self.conn.our_state in (h11.IDLE, h11.SEND_RESPONSE):  # not in the middle of an answer
            body = error_body(status, problem)
            head = (
                f"HTTP/1.1 {status} {STATUS_PHRASES[status].decode()}\r\ncontent-type: application/json\r\n"
                f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
            )
            self.transport.write(head.encode() + body)
        logs.emit("WARNING", f"HTTP {status} before the function", httpRequest={"status": status}, problem=problem)
        self.transport.close()
