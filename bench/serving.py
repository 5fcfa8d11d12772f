"""A function under the production server, timed: what each benchmark configuration serves.

The server itself (functions-framework's ASGI mode: gunicorn master, uvicorn worker, on a
free loopback port) is harness.server.Server, the same the tests start.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import psutil

from harness.server import Server, answered, vm_kib


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

    def start(self) -> Server:
        return Server(self.env, self.source, name=self.name)


def predict(server: Server, target: Target, body: bytes) -> dict:
    answer = answered(server.url + target.predict_path, body)
    if answer is None:
        raise RuntimeError(f"{target.name} did not answer a prediction")
    return json.loads(answer)


def memory(server: Server) -> dict[str, float]:
    """MiB: the worker's peak RSS, and the whole tree's RSS and PSS (master + workers)."""
    master = psutil.Process(server.process.pid)
    tree = [master, *master.children(recursive=True)]
    worker = server.worker_pid()
    return {
        "worker_peak_rss_mib": vm_kib(worker, "VmHWM") / 1024,
        "tree_rss_mib": sum(p.memory_info().rss for p in tree) / (1 << 20),
        "tree_pss_mib": sum(p.memory_full_info().pss for p in tree) / (1 << 20),
    }


def memory_after_predictions(target: Target, count: int = 1000) -> dict[str, float]:
    """MiB: a fresh server's worker (VmRSS, VmHWM, and RssFile: the part that is mapped library
    files) after `count` one-company predictions sent one after another, and its master's VmRSS."""
    with target.start() as server:
        server.wait(target.health_path)
        for _ in range(count):
            predict(server, target, target.first_body)
        worker = server.worker_pid()
        return {field: vm_kib(worker, field) / 1024 for field in ("VmRSS", "VmHWM", "RssFile")} | {
            "master_VmRSS": vm_kib(server.process.pid, "VmRSS") / 1024
        }


def cold_start(target: Target) -> dict[str, float]:
    """One fresh process: seconds to /health, then to the first prediction sent right after."""
    with target.start() as server:
        health = server.wait(target.health_path)
        first = server.wait(target.predict_path, target.first_body)
    return {"health_s": health, "first_prediction_s": first}
