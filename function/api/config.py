"""Configuration, read only from environment variables (see the README's table)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

FUNCTION_DIR = Path(__file__).resolve().parent.parent


def _default_model_dir() -> Path:
    # A deploy folder carries its model as model/ beside main.py; a checkout has artifacts/.
    staged = FUNCTION_DIR / "model"
    return staged if staged.is_dir() else FUNCTION_DIR.parent / "artifacts" / "default"


def _default_frontend_dir() -> Path:
    staged = FUNCTION_DIR / "frontend"
    return staged if staged.is_dir() else FUNCTION_DIR.parent / "frontend"


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


def _path(env: dict[str, str], name: str, default: Path) -> Path:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    return Path(raw).resolve()  # relative to the working directory, as a shell user expects


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
    torch_threads: int
    client_timeout: float  # seconds a client has for a request's head, and for its body
    bigquery_route: bool

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "Settings":
        env = dict(os.environ if env is None else env)
        return cls(
            model_dir=_path(env, "MODEL_DIR", _default_model_dir()),
            frontend_dir=_path(env, "FRONTEND_DIR", _default_frontend_dir()),
            max_batch=_positive_int(env, "MAX_BATCH", 1000),
            max_body_bytes=_positive_int(env, "MAX_BODY_BYTES", 1 << 20),
            allowed_origins=_list(env, "ALLOWED_ORIGINS", "*"),
            api_keys=_list(env, "API_KEYS"),
            torch_threads=_positive_int(env, "TORCH_THREADS", 1),
            client_timeout=_positive_int(env, "CLIENT_TIMEOUT_SECONDS", 10),
            bigquery_route=_switch(env, "BIGQUERY_ROUTE"),
        )
