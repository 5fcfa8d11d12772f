"""The worst bodies within the limits: what each costs the worker, and what 64 clients sending the
worst at once do to /health, /ready and the worker's memory.

    python -m bench.hostile [--clients 64] [--rounds 2] [--model DIR]

First, for each body in BODIES (each at most MAX_BODY_BYTES, the default 1 MiB): the status,
the answer's size and the worker's CPU per request (/proc/PID/stat, the mean of three). Then
`clients` connections each post the costliest plain body `rounds` times while one more client
asks for /health and /ready in turn: the slowest and median of each, the worker's VmRSS before,
at its peak (VmHWM) and a few seconds after, and the worst answer size (the answer-heavy body
sent by as many clients). CPU figures are per request of the worker, whatever else runs on the
machine; the times depend on the machine's load (the run prints the load average).
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import subprocess
import threading
import time
from pathlib import Path

from harness.server import Server, cpu_seconds, vm_kib, warm

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 1 << 20
ROWS = 1000  # MAX_BATCH
JSON = {"Content-Type": "application/json"}


def _padded(prefix: str, item: str, suffix: str, limit: int = LIMIT, most: int | None = None) -> bytes:
    """prefix + as many comma-separated copies of item as fit in `limit` bytes (at most `most`) + suffix."""
    room = limit - len(prefix) - len(suffix)
    count = min(room // (len(item) + 1), most or room)
    return (prefix + ",".join([item] * count) + suffix).encode()


def bodies(features: int) -> dict[str, bytes]:
    """Plain bodies of at most 1 MiB, each a different way to make the worker work."""
    number = "1." + "0" * 57 + "1"
    row = "[" + ",".join(["1e10"] * features) + "]"
    return {
        # The shape issue 26 measured: 1000 rows, each nested 400 deep.
        "1000 rows nested 400 deep": _padded('{"data": [', "[" * 400 + "1" + "]" * 400, "]}", most=ROWS),
        "1000 rows of 60-digit numbers": _padded(
            '{"data": [', "[" + ",".join([number] * features) + "]", "]}", most=ROWS
        ),
        "1000 rows out of range (1e10)": _padded('{"data": [', row, "]}", most=ROWS),
        "1 row, then 999 rows of 1e999": _padded(
            '{"data": [[' + ",".join(["1"] * features) + "],",
            "[" + ",".join(["1e999"] * features) + "]",
            "]}",
            most=ROWS - 1,
        ),
        "1000 companies, 150 unknown keys each": _padded(
            '{"companies": [', "{" + ",".join(f'"k{j}": 1' for j in range(150)) + "}", "]}", most=ROWS
        ),
        "one row of 170k numbers": _padded('{"data": [[', "1.5", "]]}"),
        "1000 rows of 80 numbers": _padded('{"data": [', "[" + ",".join(["1.5"] * 80) + "]", "]}", most=ROWS),
        "1000 ids of 200 escaped characters": _padded(
            '{"instances": [', '{"id": "' + "\\u00e9" * 200 + '"}', "]}", most=ROWS
        ),
        "a million-character string": ('{"data": [[1]], "x": "' + "a" * (LIMIT - 40) + '"}').encode(),
        "objects 8 deep, wide": _padded('{"data": [', '{"a": {"b": {"c": {"d": {"e": {"f": 1}}}}}}', "]}"),
        "350k empty objects": _padded('{"data": [', "{}", "]}"),
    }


def post(port: int, body: bytes, timeout: float = 300) -> tuple[int, int]:
    """(status, answer bytes) of one POST /predict on a connection of its own."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("POST", "/predict", body=body, headers=JSON)
        response = connection.getresponse()
        return response.status, len(response.read())
    finally:
        connection.close()


class Prober:
    """GETs of `paths` in turn, every 50 ms, from a shell loop of curl: processes of their own,
    started from a shell that is not this interpreter (whose threads sending bodies would delay
    them), until stop(); stop() gives each path's times in seconds."""

    def __init__(self, url: str, paths: tuple[str, ...]):
        self.paths = paths
        probes = " ".join(
            f"curl -s -o /dev/null --max-time 120 -w '{path} %{{http_code}} %{{time_total}}\\n' {url}{path};"
            for path in paths
        )
        self._shell = subprocess.Popen(
            ["bash", "-c", f"while true; do {probes} sleep 0.05; done"], stdout=subprocess.PIPE, text=True
        )

    def stop(self) -> dict[str, list[float]]:
        time.sleep(0.3)  # one more round after the load
        self._shell.terminate()
        output, _ = self._shell.communicate(timeout=130)
        times: dict[str, list[float]] = {path: [] for path in self.paths}
        for line in output.splitlines():
            path, status, seconds = line.split()
            if status != "200":
                raise RuntimeError(f"{path} answered {status}")
            times[path].append(float(seconds))
        return times


def cost(server: Server, body: bytes, times: int = 3) -> tuple[int, int, float]:
    """(status, answer bytes, worker CPU seconds per request)."""
    pid = server.worker_pid()
    before = cpu_seconds(pid)
    for _ in range(times):
        status, size = post(server.port, body)
    return status, size, (cpu_seconds(pid) - before) / times


def under_load(server: Server, body: bytes, clients: int, rounds: int) -> dict[str, object]:
    """`clients` connections posting `body` `rounds` times while /health and /ready are timed."""
    pid = server.worker_pid()
    rss_before = vm_kib(pid, "VmRSS") / 1024
    answers: list[tuple[int, int]] = []
    barrier = threading.Barrier(clients + 1)

    def client() -> None:
        barrier.wait()
        for _ in range(rounds):
            answers.append(post(server.port, body))

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    cpu_before, started = cpu_seconds(pid), time.monotonic()
    prober = Prober(server.url, ("/health", "/ready"))
    peak_rss = rss_before
    while any(thread.is_alive() for thread in threads):
        peak_rss = max(peak_rss, vm_kib(pid, "VmRSS") / 1024)
        time.sleep(0.05)
    for thread in threads:
        thread.join()
    waits = prober.stop()
    elapsed, cpu = time.monotonic() - started, cpu_seconds(pid) - cpu_before
    time.sleep(3)
    return {
        "statuses": sorted({status for status, _ in answers}),
        "answer_bytes": max(size for _, size in answers),
        "seconds": elapsed,
        "cpu_seconds": cpu,
        "health_max": max(waits["/health"]),
        "health_median": statistics.median(waits["/health"]),
        "ready_max": max(waits["/ready"]),
        "rss_before": rss_before,
        "rss_peak": max(peak_rss, vm_kib(pid, "VmHWM") / 1024),
        "rss_after": vm_kib(pid, "VmRSS") / 1024,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.hostile", description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--model", type=Path, default=ROOT / "artifacts" / "default")
    parser.add_argument("--only-costs", action="store_true", help="measure each body's cost, not the load")
    args = parser.parse_args(argv)
    features = len(json.loads((args.model / "manifest.json").read_text())["features"])
    print(f"load average: {Path('/proc/loadavg').read_text().split()[:3]}")
    server = warm({"MODEL_DIR": str(args.model)})
    try:
        costs = {}
        for name, body in bodies(features).items():
            status, size, cpu = costs[name] = cost(server, body)
            print(f"{name:40} {len(body):8} B  {status}  answer {size:9} B  {cpu * 1000:7.1f} ms CPU")
        if args.only_costs:
            return
        worst = max(costs, key=lambda name: costs[name][2])
        heaviest = max(costs, key=lambda name: costs[name][1])
        for label, name in (("costliest", worst), ("largest answer", heaviest)):
            run = under_load(server, bodies(features)[name], args.clients, args.rounds)
            print(f"{args.clients} clients x {args.rounds}, {label}: {name}")
            print("  " + ", ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in run.items()))
    finally:
        server.stop()


if __name__ == "__main__":
    main()
