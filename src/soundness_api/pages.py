"""The web page from frontend/, served by the function so one server gives the whole product."""

from __future__ import annotations

import mimetypes
from pathlib import Path

from starlette.responses import Response
from werkzeug.security import safe_join

SERVED_TYPES = {".html", ".js", ".css", ".svg", ".png", ".ico", ".csv", ".json", ".txt"}

# Only the page's own scripts and styles, and calls to its own origin: the copy the function
# serves keeps config.js's same-origin default (deploy rewrites only the bucket's copy).
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
        "frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
}


def find(frontend_dir: Path, path: str) -> Path | None:
    """The file under frontend_dir that `path` names, or None (never outside the folder)."""
    joined = safe_join(str(frontend_dir), path.lstrip("/"))
    if joined is None:
        return None
    candidate = Path(joined)
    if candidate.suffix not in SERVED_TYPES or not candidate.is_file():
        return None
    return candidate


def serve(path: Path) -> Response:
    mimetype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if mimetype.startswith("text/") or mimetype in ("application/javascript", "text/javascript"):
        mimetype += "; charset=utf-8"
    headers = {**SECURITY_HEADERS, "Cache-Control": "no-cache"}
    return Response(path.read_bytes(), 200, headers, media_type=mimetype)
