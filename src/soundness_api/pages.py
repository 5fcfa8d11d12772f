"""The web page from frontend/, served by the function so one server gives the whole product.

Every file answers with a validator (ETag, Last-Modified) and a 304 to a browser that has it;
text goes gzipped to a browser that takes gzip. index.html names the other files under
v/<version>/, the version being a hash of the whole folder, so those answers may be kept for a
year (`immutable`): a changed file changes the version and so the names the page asks for.
index.html itself, and a file asked for without a version or with an old one, is revalidated.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import re
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime
from functools import lru_cache
from pathlib import Path

from starlette.responses import Response
from werkzeug.security import safe_join

from .exchange import Exchange

SERVED_TYPES = {".html", ".js", ".css", ".svg", ".png", ".ico", ".csv", ".json", ".txt"}
COMPRESSED_TYPES = {".html", ".js", ".css", ".svg", ".csv", ".json", ".txt"}
COMPRESS_FROM = 512  # bytes: below this gzip's header and the work cost more than they save

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
    # The page uses none of these powers; no window it opens may reach back into it.
    "Permissions-Policy": (
        "camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=(), "
        "magnetometer=(), gyroscope=(), accelerometer=(), browsing-topics=()"
    ),
    "Cross-Origin-Opener-Policy": "same-origin",
}
# Sent only over HTTPS (browsers ignore it over plain HTTP, RFC 6797 §8.1); Cloud Run and Cloud
# Functions end TLS at their front end and say so in X-Forwarded-Proto.
HSTS = "max-age=31536000; includeSubDomains"
REVALIDATE = "no-cache"
IMMUTABLE = "public, max-age=31536000, immutable"

VERSIONED = re.compile(r"^/v/([0-9a-f]{12})(/.*)$")
# index.html's references to the page's own files (not links to pages or downloads).
LOCAL_ASSET = re.compile(r'((?:src|href)=")([\w-]+\.(?:js|css|svg))"')


@dataclass(frozen=True)
class Static:
    path: Path
    immutable: bool  # asked for under the folder's current version


def find(frontend_dir: Path, path: str) -> Static | None:
    """The file under frontend_dir that `path` names (v/<version>/name names `name`), or None
    (never outside the folder)."""
    immutable = False
    versioned = VERSIONED.match(path)
    if versioned:
        path = versioned[2]
        immutable = versioned[1] == _version(frontend_dir, *_folder_stamp(frontend_dir))
    joined = safe_join(str(frontend_dir), path.lstrip("/"))
    if joined is None:
        return None
    candidate = Path(joined)
    if candidate.suffix not in SERVED_TYPES or not candidate.is_file():
        return None
    return Static(candidate, immutable and candidate.name != "index.html")


def _folder_stamp(frontend_dir: Path) -> tuple[tuple[str, int, int], ...]:
    """What changes when any served file of the folder changes (name, size, mtime)."""
    stamp = []
    for file in sorted(frontend_dir.rglob("*")):
        if file.suffix in SERVED_TYPES and file.is_file():
            info = file.stat()
            stamp.append((str(file), info.st_size, info.st_mtime_ns))
    return tuple(stamp)


@lru_cache(maxsize=8)
def _version(frontend_dir: Path, *stamp: tuple[str, int, int]) -> str:
    digest = hashlib.sha256()
    for name, _, _ in stamp:
        digest.update(name.encode())
        digest.update(hashlib.sha256(Path(name).read_bytes()).digest())
    return digest.hexdigest()[:12]


@dataclass(frozen=True)
class _Body:
    content: bytes
    etag: str
    gzipped: bytes | None


@lru_cache(maxsize=64)
def _body(path: Path, size: int, mtime_ns: int, version: str | None) -> _Body:
    """A file's bytes as served (index.html with its references versioned), read and compressed
    once per content: size and mtime are in the key so a changed file is read anew."""
    content = path.read_bytes()
    if version is not None:
        content = LOCAL_ASSET.sub(rf'\1v/{version}/\2"', content.decode()).encode()
    etag = hashlib.sha256(content).hexdigest()[:20]
    compressible = path.suffix in COMPRESSED_TYPES and len(content) >= COMPRESS_FROM
    # mtime=0: the same bytes, so the same ETag, in every instance
    gzipped = gzip.compress(content, compresslevel=9, mtime=0) if compressible else None
    return _Body(content, etag, gzipped)


def _not_modified(headers: Mapping[str, str], etag: str, modified: float) -> bool:
    match = headers.get("if-none-match")
    if match is not None:  # RFC 9110 §13.1.2: weak comparison; If-Modified-Since is then ignored
        tags = {tag.strip().removeprefix("W/") for tag in match.split(",")}
        return "*" in tags or etag in tags
    since = headers.get("if-modified-since")
    if since is None:
        return False
    try:
        return int(modified) <= parsedate_to_datetime(since).timestamp()
    except (TypeError, ValueError, OverflowError):
        return False  # a date we cannot read validates nothing


def _takes_gzip(headers: Mapping[str, str]) -> bool:
    for coding in headers.get("accept-encoding", "").split(","):
        name, _, params = coding.strip().partition(";")
        if name.strip().lower() in ("gzip", "*"):
            return params.replace(" ", "").lower() not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


def serve(static: Static, exchange: Exchange) -> Response:
    """The file's answer to a GET: 200, or 304 when the browser's copy is current."""
    request_headers = exchange.headers
    info = static.path.stat()
    version, modified = None, info.st_mtime
    if static.path.name == "index.html":  # it names every file's version: as new as the newest
        stamp = _folder_stamp(static.path.parent)
        version = _version(static.path.parent, *stamp)
        modified = max(mtime_ns for _, _, mtime_ns in stamp) / 1e9
    body = _body(static.path, info.st_size, info.st_mtime_ns, version)
    zipped = body.gzipped is not None and _takes_gzip(request_headers)
    etag = f'"{body.etag}-gz"' if zipped else f'"{body.etag}"'  # one tag per representation
    headers = {
        **SECURITY_HEADERS,
        "Cache-Control": IMMUTABLE if static.immutable else REVALIDATE,
        "ETag": etag,
        "Last-Modified": formatdate(modified, usegmt=True),
    }
    if body.gzipped is not None:
        headers["Vary"] = "Accept-Encoding"
    if _over_https(exchange.request.url.scheme, request_headers):
        headers["Strict-Transport-Security"] = HSTS
    if _not_modified(request_headers, etag, modified):
        return Response(None, 304, headers)
    mimetype = mimetypes.guess_type(static.path.name)[0] or "application/octet-stream"
    if mimetype.startswith("text/") or mimetype in ("application/javascript", "text/javascript"):
        mimetype += "; charset=utf-8"
    if zipped:
        headers["Content-Encoding"] = "gzip"
    return Response(body.gzipped if zipped else body.content, 200, headers, media_type=mimetype)


def _over_https(scheme: str, request_headers: Mapping[str, str]) -> bool:
    """Whether the browser's connection is HTTPS: directly, or ended by the platform's front end."""
    forwarded = request_headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return scheme == "https" or forwarded == "https"
