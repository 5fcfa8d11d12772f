"""The function in its own process, as production runs it: functions-framework's ASGI mode
(gunicorn master, one uvicorn worker), on a free loopback port.

Its output goes to a file, not a pipe: every request logs a line, and a full pipe would
stall the server. Used by the tests (tests/conftest.py) and the benchmarks (bench/).
"""

from __future__ import annotations

import functools
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from soundness_api import config

ROOT = Path(__file__).resolve().parent.parent
MAIN = ROOT / "function" / "main.py"
# The function's settings and the server's (functions-framework, gunicorn): cleared from the
# caller's environment, so a shell's leftovers never change what a test or a benchmark runs.
ENV_NAMES = (
    *config.ENV_NAMES,
    *config.PLATFORM_ENV_NAMES,
    "WORKERS",
    "THREADS",
    "FUNCTION_TARGET",
    "FUNCTION_SOURCE",
    "FUNCTION_SIGNATURE_TYPE",
    "FUNCTION_USE_ASGI",
    "DEBUG",
    "PORT",
    "HOST",
    "GUNICORN_LOG_LEVEL",
    "CLOUD_RUN_TIMEOUT_SECONDS",
    # what Cloud Run (functions) sets
    "LOG_EXECUTION_ID",
    "K_SERVICE",
    "K_REVISION",
    "K_CONFIGURATION",
    "GOOGLE_CLOUD_PROJECT",
)
POLL_SECONDS = 0.005
# A platform's start-up runs as a user without root and without a writable HOME (Cloud Run's
# user has HOME=/nonexistent): as root, the harness runs it as nobody, whose HOME that is, when
# nobody may run this interpreter; else as itself, with a HOME no one can create (below a file).
PLATFORM_USER = 65534
PLATFORM_HOME = "/nonexistent"
UNCREATABLE_HOME = "/dev/null/home"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@functools.cache
def platform_user() -> dict:
    """Popen's arguments that run a process as nobody, when this process is root and nobody may
    run sys.executable (a venv on an interpreter under /root is not); else none."""
    if os.geteuid() != 0:
        return {}
    user = {"user": PLATFORM_USER, "group": PLATFORM_USER, "extra_groups": []}
    try:
        subprocess.run([sys.executable, "-c", ""], check=True, capture_output=True, **user)
    except (OSError, subprocess.CalledProcessError):
        return {}
    return user


def clean_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment without the function's and the server's settings, plus `env`."""
    clean = {k: v for k, v in os.environ.items() if k not in ENV_NAMES}
    clean.update({key: str(value) for key, value in (env or {}).items()})
    return clean


def answered(url: str, body: bytes | None = None, timeout: float = 30.0) -> bytes | None:
    """The response body if the server answered 200, None if it is not listening yet."""
    headers = {"Content-Type": "application/json"} if body is not None else {}
    request = urllib.request.Request(url, data=body, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.read()
    except urllib.error.HTTPError as error:
        raise RuntimeError(f"{url} answered {error.code}: {error.read()[:300]!r}") from None
    except OSError:
        return None


class Server:
    def __init__(
        self,
        env: dict[str, str] | None = None,
        source: Path = MAIN,
        cwd: Path = ROOT,
        name: str = "function",
        app: str | None = None,
        port: int | None = None,
        platform: bool = False,
    ):
        """Serves `source`'s predict, or with `app` ("module:attribute") another ASGI app under
        plain uvicorn (for comparisons). With `platform`, as a platform starts it: the CLI with
        no options (`env` names the target, ASGI mode and the port: PORT, or Vertex AI's
        AIP_HTTP_PORT, equal to `port`), as a user without root and with an unwritable HOME."""
        self.name = name
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - open as long as the server runs; stop() closes it
        self.started = time.perf_counter()
        where = ["--host", "127.0.0.1", "--port", str(self.port)]
        user: dict = {}
        if app:
            command = ["uvicorn", app, "--no-access-log", *where]
        elif platform:
            command = ["functions_framework"]
            user = platform_user()
            home = PLATFORM_HOME if user or os.geteuid() != 0 else UNCREATABLE_HOME
            env = {"FUNCTION_SOURCE": str(source), "HOST": "127.0.0.1", "HOME": home, **(env or {})}
        else:
            command = ["functions_framework", "--asgi", "--source", str(source), "--target", "predict", *where]
        self.process = subprocess.Popen(
            [sys.executable, "-m", *command],
            env=clean_env(env),
            cwd=cwd,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            **user,
        )

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def wait(self, path: str = "/health", body: bytes | None = None, timeout: float = 60.0) -> float:
        """Seconds from process start until `path` answered 200 (polling every few ms)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.output()[-2000:]}")
            if answered(self.url + path, body) is not None:
                return time.perf_counter() - self.started
            time.sleep(POLL_SECONDS)
        raise TimeoutError(f"{self.name} did not answer {path} within {timeout:.0f} s")

    def wait_listening(self, timeout: float = 60.0) -> float:
        """Seconds from process start until the port accepts a connection (no request sent)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.output()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return time.perf_counter() - self.started
            except OSError:
                time.sleep(POLL_SECONDS)
        raise TimeoutError(f"{self.name} did not listen within {timeout:.0f} s")

    def output(self) -> str:
        """What the server printed so far."""
        if self._log.closed:
            return self._final_output
        self._log.seek(0)
        return self._log.read().decode(errors="replace")

    def log_lines(self) -> list[dict]:
        # "\n" ends a log line; splitlines() would also split inside one, at a U+2028 a path can carry.
        return [json.loads(line) for line in self.output().split("\n") if line.startswith("{")]

    def worker_pid(self) -> int:
        """The uvicorn worker's process id (gunicorn's master forks one)."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        return int(children[0]) if children else self.process.pid

    def stop(self) -> str:
        """Stop the server (if running) and return all it printed."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if not self._log.closed:
            self._final_output = self.output()
            self._log.close()
        return self._final_output


def warm(env: dict[str, str] | None = None, **options) -> Server:
    """A server that answers and has loaded its model (GET /ready), so no caller waits on that."""
    server = Server(env, **options)
    try:
        server.wait("/health", timeout=30)
        urllib.request.urlopen(server.url + "/ready", timeout=120).close()
    except BaseException:
        server.stop()
        raise
    return server


def cpu_seconds(pid: int) -> float:
    """A process's user + system CPU time so far (/proc/PID/stat), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime, in clock ticks


def vm_kib(pid: int, field: str) -> int:
    """A /proc/PID/status memory field (VmRSS, VmHWM, ...) in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)
