"""Configuration, read only from environment variables (see the README's table)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

DART_API_URL = "https://opendart.fss.or.kr/api"
# Every environment variable Settings.from_env reads: the one list the test harness clears and
# deploy.sh passes through (tests/test_config.py holds from_env and deploy.sh to it).
ENV_NAMES = (
    "MODEL_DIR",
    "FRONTEND_DIR",
    "MAX_BATCH",
    "MAX_BODY_BYTES",
    "ALLOWED_ORIGINS",
    "API_KEYS",
    "CLIENT_TIMEOUT_SECONDS",
    "DART_API_KEY",
    "DART_API_URL",
    "DART_TIMEOUT",
    "DART_CACHE_SIZE",
    "DART_CALLS_PER_CLIENT",
    "DART_CALLS_PER_INSTANCE",
    "BIGQUERY_ROUTE",
)
# What a platform sets, never deploy.sh: Vertex AI's custom-container contract (the port it
# sends to, the routes it calls). The harness clears these too.
PLATFORM_ENV_NAMES = ("AIP_HTTP_PORT", "AIP_PREDICT_ROUTE", "AIP_HEALTH_ROUTE")
# The folder holding this package: a staged deploy folder (model/ and frontend/ beside main.py),
# or src/ of a checkout (artifacts/ and frontend/ one level up).
PACKAGE_HOME = Path(__file__).resolve().parent.parent


def _default_model_dir() -> Path:
    staged = PACKAGE_HOME / "model"
    return staged if staged.is_dir() else PACKAGE_HOME.parent / "artifacts" / "default"


def _default_frontend_dir() -> Path:
    staged = PACKAGE_HOME / "frontend"
    return staged if staged.is_dir() else PACKAGE_HOME.parent / "frontend"


class ConfigError(ValueError):
    pass


def _positive_int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ConfigError(f"{name} must be a positive integer, got {raw!r}")
    return value


def _list(env: dict[str, str], name: str, default: str = "") -> tuple[str, ...]:
    return tuple(item.strip() for item in env.get(name, default).split(",") if item.strip())


def _url(env: dict[str, str], name: str, default: str) -> str:
    raw = env.get(name, "").strip().rstrip("/") or default
    if not raw.startswith(("https://", "http://")):
        raise ConfigError(f"{name} must be an http(s) URL, got {raw!r}")
    return raw


def _path(env: dict[str, str], name: str, default: Path) -> Path:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return Path(raw).resolve()  # relative to the working directory, as a shell user expects
    except (OSError, RuntimeError):  # a symlink loop: the instance starts, and /ready says why
        return Path(raw).absolute()


def _api_keys(env: dict[str, str]) -> tuple[str, ...]:
    keys = _list(env, "API_KEYS")
    for number, key in enumerate(keys, 1):
        # Header values reach us as latin-1 and keys compare as UTF-8: anything beyond
        # printable ASCII could never match, so a key that looks set would lock everyone out.
        if not (key.isascii() and key.isprintable()):
            raise ConfigError(
                f"API_KEYS: key number {number} of {len(keys)} has a character outside "
                "printable ASCII, which no client can send in an X-API-Key header"
            )
    return keys


def _port(env: dict[str, str], name: str) -> int | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit() and 0 < int(raw) < 1 << 16):
        raise ConfigError(f"{name} must be a TCP port (1-65535), got {raw!r}")
    return int(raw)


def _route(env: dict[str, str], name: str) -> str | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    if not raw.startswith("/") or not raw.isascii() or not raw.isprintable() or any(c in raw for c in " ?#{}"):
        raise ConfigError(f"{name} must be a path such as /v1/endpoints/1/deployedModels/2:predict, got {raw!r}")
    return raw.rstrip("/") or "/"  # as the request cycle matches paths


def _switch(env: dict[str, str], name: str) -> bool:
    raw = env.get(name, "").strip()
    if raw not in ("", "on", "off"):
        raise ConfigError(f"{name} must be on or off, got {raw!r}")
    return raw == "on"


@dataclass(frozen=True)
class Settings:
    model_dir: Path
    frontend_dir: Path
    max_batch: int
    max_body_bytes: int
    allowed_origins: tuple[str, ...]
    api_keys: tuple[str, ...]
    client_timeout: float  # seconds a client has for a request's head, and for its body
    # The OpenDART key: empty turns the company lookup off. Never in a repr, log or answer.
    dart_api_key: str = field(default="", repr=False)
    dart_api_url: str = DART_API_URL
    dart_timeout: int = 10  # seconds for each call to DART, start to last byte
    dart_cache_size: int = 256  # DART answers kept per instance
    dart_calls_per_client: int = 100  # DART calls one client may cause per hour
    dart_calls_per_instance: int = 800  # DART calls per hour per instance (the key has 20,000 a day)
    bigquery_route: bool = False
    # Vertex AI: the port it sends to, the route it predicts on (KServe V1's shape), the route it
    # checks health on (200 once the model is loaded); None where not on Vertex AI.
    aip_http_port: int | None = None
    aip_predict_route: str | None = None
    aip_health_route: str | None = None

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ) if env is None else env
        return cls(
            model_dir=_path(env, "MODEL_DIR", _default_model_dir()),
            frontend_dir=_path(env, "FRONTEND_DIR", _default_frontend_dir()),
            max_batch=_positive_int(env, "MAX_BATCH", 1000),
            max_body_bytes=_positive_int(env, "MAX_BODY_BYTES", 1 << 20),
            allowed_origins=_list(env, "ALLOWED_ORIGINS", "*"),
            api_keys=_api_keys(env),
            client_timeout=_positive_int(env, "CLIENT_TIMEOUT_SECONDS", 10),
            dart_api_key=env.get("DART_API_KEY", "").strip(),
            dart_api_url=_url(env, "DART_API_URL", DART_API_URL),
            dart_timeout=_positive_int(env, "DART_TIMEOUT", 10),
            dart_cache_size=_positive_int(env, "DART_CACHE_SIZE", 256),
            dart_calls_per_client=_positive_int(env, "DART_CALLS_PER_CLIENT", 100),
            dart_calls_per_instance=_positive_int(env, "DART_CALLS_PER_INSTANCE", 800),
            bigquery_route=_switch(env, "BIGQUERY_ROUTE"),
            aip_http_port=_port(env, "AIP_HTTP_PORT"),
            aip_predict_route=_route(env, "AIP_PREDICT_ROUTE"),
            aip_health_route=_route(env, "AIP_HEALTH_ROUTE"),
        )
