"""A bounded soak: mixed valid and invalid requests at concurrency 16 against the function as
production runs it, checking every answer and the worker's memory.

    python -m bench.soak [--duration 600] [--concurrency 16] [--model DIR]

Passes (exit 0) when no answer is a 5xx, every answer (status and body) equals the answer the
same request got alone before the soak, and prints the worker's VmRSS slope (MiB per minute,
least squares over the samples after the first minute, or after the first quarter of a shorter
run). Each client keeps its connection alive, as a real client would.
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import itertools
import json
import sys
import threading
import time
from pathlib import Path

from harness.server import vm_kib, warm

from . import bodies

ROOT = Path(__file__).resolve().parent.parent
JSON = {"Content-Type": "application/json"}
SAMPLE_SECONDS = 5


def requests_to_send() -> list[tuple[str, str, bytes, dict[str, str]]]:
    """(name, method + path, body, headers): valid forms and sizes, and refusals of every kind."""
    one, ten = bodies.body("companies", 1), bodies.body("companies", 10)
    return [
        ("one company", "POST /predict", one, JSON),
        ("ten companies", "POST /predict", ten, JSON),
        ("the legacy service's form", "POST /predict", bodies.body("data", 3), JSON),
        (
            "a hundred companies, gzip",
            "POST /predict",
            gzip.compress(bodies.body("companies", 100)),
            {**JSON, "Content-Encoding": "gzip"},
        ),
        (
            "one bad row among good",
            "POST /predict",
            json.dumps({"companies": [*json.loads(ten)["companies"][:2], {"revenue": "x"}]}).encode(),
            JSON,
        ),
        ("malformed JSON", "POST /predict", b'{"companies": [', JSON),
        ("not JSON", "POST /predict", one, {"Content-Type": "text/plain"}),
        ("unknown form", "POST /predict", b'{"rows": []}', JSON),
        ("NaN", "POST /predict", b'{"data": [[NaN, 1, 2, 3, 4]]}', JSON),
        ("too large", "POST /predict", b" " * (1 << 20) + one, JSON),
        ("brotli", "POST /predict", one, {**JSON, "Content-Encoding": "br"}),
        ("wrong method", "GET /predict", b"", {}),
        ("no route", "GET /nowhere", b"", {}),
        ("health", "GET /health", b"", {}),
        ("model facts", "GET /model", b"", {}),
    ]


def send(connection: http.client.HTTPConnection, request) -> tuple[int, object]:
    _, line, body, headers = request
    method, path = line.split(" ", 1)
    connection.request(method, path, body=body or None, headers=headers)
    response = connection.getresponse()
    data = response.read()
    if response.getheader("Connection", "").lower() == "close":
        connection.close()  # http.client reconnects on the next request
    return response.status, json.loads(data)


def slope_mib_per_minute(samples: list[tuple[float, float]]) -> float:
    n = len(samples)
    if n < 2:
        return 0.0
    mean_t = sum(t for t, _ in samples) / n
    mean_m = sum(m for _, m in samples) / n
    var = sum((t - mean_t) ** 2 for t, _ in samples)
    return 60 * sum((t - mean_t) * (m - mean_m) for t, m in samples) / var if var else 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=600, help="seconds (600)")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--model", type=Path, default=ROOT / "artifacts" / "default")
    args = parser.parse_args(argv)
    server = warm({"MODEL_DIR": str(args.model)})
    try:
        host = ("127.0.0.1", server.port)
        requests = requests_to_send()
        alone = http.client.HTTPConnection(*host, timeout=30)
        expected = [send(alone, request) for request in requests]
        alone.close()
        counts = {"answers": 0, "5xx": 0, "different": 0}
        different: list[str] = []
        lock = threading.Lock()
        deadline = time.monotonic() + args.duration

        def client(offset: int) -> None:
            connection = http.client.HTTPConnection(*host, timeout=30)
            for i in itertools.count(offset):
                if time.monotonic() >= deadline:
                    break
                got = send(connection, requests[i % len(requests)])
                with lock:
                    counts["answers"] += 1
                    counts["5xx"] += got[0] >= 500
                    if got != expected[i % len(requests)]:
                        counts["different"] += 1
                        different.append(requests[i % len(requests)][0])
            connection.close()

        worker, started = server.worker_pid(), time.monotonic()
        threads = [threading.Thread(target=client, args=(i,)) for i in range(args.concurrency)]
        for thread in threads:
            thread.start()
        samples = []
        while any(thread.is_alive() for thread in threads):
            samples.append((time.monotonic() - started, vm_kib(worker, "VmRSS") / 1024))
            time.sleep(SAMPLE_SECONDS)
        for thread in threads:
            thread.join()
        settled = min(60.0, args.duration / 4)
        slope = slope_mib_per_minute([s for s in samples if s[0] >= settled])
        print(
            f"soak: {args.duration:.0f} s at concurrency {args.concurrency}, {len(requests)} kinds of request: "
            f"{counts['answers']} answers ({counts['answers'] / args.duration:.0f}/s), {counts['5xx']} 5xx, "
            f"{counts['different']} different from the same request alone "
            f"{sorted(set(different))[:5] if different else ''}"
        )
        print(
            f"worker VmRSS: {samples[0][1]:.1f} MiB at start, {samples[-1][1]:.1f} MiB at end, "
            f"slope {slope:+.3f} MiB/min after the first {settled:.0f} s ({len(samples)} samples)"
        )
        return 0 if counts["5xx"] == 0 and counts["different"] == 0 else 1
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
