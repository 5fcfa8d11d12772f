"""The worker's CPU per request under load, for the floor, our request cycle alone and a prediction:

    python -m bench.worker_cpu [--duration 5] [--rounds 2]

wrk keeps 8 connections busy for `duration` seconds against each of: the constant-answer floor
(POST /predict, bench/floor), our function's GET /health (the request cycle without the model:
routing, headers, CORS, the log line), and our POST /predict with one company, unexplained and
explained. The uvicorn worker's user + system CPU (/proc/PID/stat) over the run, divided by the
requests answered, is what a request costs the instance whatever else shares the machine; at
concurrency 8 on one worker it also sets the throughput. Prints one line per server and path.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.server import Server, cpu_seconds, warm

from . import bodies, load

FLOOR = Path(__file__).resolve().parent / "floor" / "main.py"
ROOT = Path(__file__).resolve().parent.parent


def per_request(server: Server, path: str, body: bytes | None, seconds: float) -> tuple[float, float]:
    """(requests/s, worker CPU us per request) of one wrk run at concurrency 8."""
    load.wrk(server.url + path, body, 8, 1)  # warm
    pid = server.worker_pid()
    before = cpu_seconds(pid)
    run = load.wrk(server.url + path, body, 8, seconds)
    return run["rps"], (cpu_seconds(pid) - before) / run["requests"] * 1e6


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.worker_cpu", description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--model", type=Path, default=ROOT / "artifacts" / "default")
    args = parser.parse_args(argv)
    floor = Server({}, FLOOR, name="floor")
    ours = warm({"MODEL_DIR": str(args.model)})
    cases = [
        ("floor", floor, "/predict", bodies.body("companies", 1)),
        ("ours", ours, "/health", None),
        ("ours", ours, "/predict", bodies.body(bodies.UNEXPLAINED, 1)),
        ("ours", ours, "/predict", bodies.body("companies", 1)),
    ]
    labels = ["POST, constant answer", "GET, no model", "POST, one company, unexplained", "POST, one company"]
    try:
        floor.wait("/")
        for round_ in range(args.rounds):
            for (name, server, path, body), label in zip(cases, labels):
                rps, cpu = per_request(server, path, body, args.duration)
                print(f"round {round_ + 1}  {name:5} {path:9} {label:32} {rps:7.0f} req/s  {cpu:5.0f} us CPU/request")
    finally:
        floor.stop()
        ours.stop()


if __name__ == "__main__":
    main()
