"""A function under the production server (functions-framework -> gunicorn, no --debug), timed.

Each Server is one process tree on a free loopback port: the gunicorn master that
functions-framework runs, and its worker. Its output goes to a file, not a pipe: every
request logs a line, and a full pipe would stall the server mid-benchmark.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
# Settings that would change what is measured if they leaked in from the caller's shell.
SERVE_ENV_KEYS = ("MODEL_DIR", "FRONTEND_DIR", "MAX_BATCH", "MAX_BODY_BYTES", "ALLOWED_ORIGINS",
                  "API_KEYS", "WORKERS", "THREADS", "FUNCTION_TARGET",
                  "FUNCTION_SOURCE", "FUNCTION_SIGNATURE_TYPE")
POLL_SECONDS = 0.005


@dataclass(frozen=True)
class Target:
    """What to serve: a source file, its environment, its health path and its prediction bodies."""
    name: str
    source: Path
    env: dict[str, str]
    health_path: str
    predict_path: str
    bodies: dict[str, bytes]  # input form -> a one-company body; the first is used for cold starts

    @property
    def first_body(self) -> bytes:
        return next(iter(self.bodies.values()))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answered(url: str, body: bytes | None = None, timeout: float = 30.0) -> bytes | None:
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
    def __init__(self, target: Target):
        self.target = target
        self.url = f"http://127.0.0.1:{free_port()}"
        env = {k: v for k, v in os.environ.items() if k not in SERVE_ENV_KEYS}
        env.update(target.env)
        self._log = tempfile.TemporaryFile()
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "functions_framework", "--source", str(target.source),
             "--target", "predict", "--host", "127.0.0.1", "--port", self.url.rsplit(":", 1)[1]],
            env=env, cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT)

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def wait(self, path: str, body: bytes | None = None, timeout: float = 60.0) -> float:
        """Seconds from process start until `path` answered 200 (polling every few ms)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.target.name} exited: {self.output()[-2000:]}")
            if _answered(self.url + path, body) is not None:
                return time.perf_counter() - self.started
            time.sleep(POLL_SECONDS)
        raise TimeoutError(f"{self.target.name} did not answer {path} within {timeout:.0f} s")

    def predict(self, body: bytes) -> dict:
        answer = _answered(self.url + self.target.predict_path, body)
        if answer is None:
            raise RuntimeError(f"{self.target.name} did not answer a prediction")
        return json.loads(answer)

    def memory(self) -> dict[str, float]:
        """MiB: the worker's peak and current RSS, and the whole tree's (master + workers)."""
        master = psutil.Process(self.process.pid)
        tree = [master, *master.children(recursive=True)]
        workers = tree[1:] or tree
        mib = 1 << 20
        return {
            "worker_peak_rss_mib": max(_peak_rss(p) for p in workers) / mib,
            "worker_rss_mib": max(p.memory_info().rss for p in workers) / mib,
            "tree_rss_mib": sum(p.memory_info().rss for p in tree) / mib,
            "tree_pss_mib": sum(p.memory_full_info().pss for p in tree) / mib,
        }

    def output(self) -> str:
        self._log.seek(0)
        return self._log.read().decode(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


def _peak_rss(process: psutil.Process) -> int:
    """The kernel's high-water mark of resident memory (VmHWM), in bytes."""
    for line in Path(f"/proc/{process.pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return process.memory_info().rss


def _status_mib(pid: int) -> dict[str, float]:
    """VmRSS, VmHWM, RssAnon and RssFile of a process, in MiB (RssFile: pages of mapped libraries)."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
            fields[name] = int(value.split()[0]) / 1024
    return fields


def memory_after_predictions(target: Target, count: int = 1000) -> dict[str, float]:
    """A fresh server's worker after `count` one-company predictions sent one after another."""
    with Server(target) as server:
        server.wait(target.health_path)
        for _ in range(count):
            server.predict(target.first_body)
        master = psutil.Process(server.process.pid)
        worker = (master.children(recursive=True) or [master])[0]
        return _status_mib(worker.pid) | {"master_VmRSS": _status_mib(master.pid)["VmRSS"]}


def cold_start(target: Target) -> dict[str, float]:
    """One fresh process: seconds to /health, then to the first prediction sent right after."""
    with Server(target) as server:
        health = server.wait(target.health_path)
        first = server.wait(target.predict_path, target.first_body)
    return {"health_s": health, "first_prediction_s": first}
