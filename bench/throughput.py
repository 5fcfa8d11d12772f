"""Throughput at concurrency 8, as ratios measured in the same run (the machine is shared):

    python -m bench.throughput [--rounds 5] [--duration 3] [--model DIR]

Ours (the companies form, one company; with `--unexplained`, `"explain": false`), the constant-answer floor under the same server, and
FastAPI + uvicorn serving the same model (bench/fastapi_app) are loaded in turn by wrk, round
after round, so a slow patch of the machine falls on all three alike. Prints each round's
requests/s and the medians of ours/floor and ours/FastAPI per round.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from harness.server import Server, warm

from . import bodies, load

ROOT = Path(__file__).resolve().parent.parent
FLOOR = ROOT / "bench" / "floor" / "main.py"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.throughput", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=int, default=3, help="seconds of each wrk run")
    parser.add_argument("--model", type=Path, default=ROOT / "artifacts" / "default")
    parser.add_argument(
        "--unexplained", action="store_true", help='ours gets `"explain": false`, as FastAPI explains nothing'
    )
    args = parser.parse_args(argv)
    env = {"MODEL_DIR": str(args.model)}
    body = bodies.body("companies", 1)
    ours_body = bodies.body(bodies.UNEXPLAINED, 1) if args.unexplained else body
    servers = {
        "ours": warm(env),
        "floor": Server({}, FLOOR, name="floor"),
        # One intra-op thread for its torch, as ours sets (TORCH_THREADS=1).
        "fastapi": Server({**env, "OMP_NUM_THREADS": "1"}, app="bench.fastapi_app.main:app", name="fastapi"),
    }
    try:
        servers["floor"].wait("/")
        servers["fastapi"].wait("/health")
        runs: dict[str, list[float]] = {name: [] for name in servers}
        sent = {name: ours_body if name == "ours" else body for name in servers}
        for name, server in servers.items():  # warm-up, not counted
            load.wrk(server.url + "/predict", sent[name], 8, 1)
        for round_ in range(args.rounds):
            for name, server in servers.items():
                runs[name].append(load.wrk(server.url + "/predict", sent[name], 8, args.duration)["rps"])
            print(f"round {round_ + 1}: " + ", ".join(f"{n} {r[-1]:.0f} req/s" for n, r in runs.items()), flush=True)
        for other in ("floor", "fastapi"):
            ratios = [a / b for a, b in zip(runs["ours"], runs[other])]
            print(
                f"ours / {other}: median {statistics.median(ratios):.2f} "
                f"[{min(ratios):.2f}-{max(ratios):.2f}] over {args.rounds} rounds"
            )
    finally:
        for server in servers.values():
            server.stop()


if __name__ == "__main__":
    main()
