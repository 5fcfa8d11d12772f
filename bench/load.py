"""Warm HTTP load with wrk: a closed loop of `connections` clients posting one body over loopback."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent / "post.lua"


def wrk_version() -> str | None:
    """wrk's version line, or None when wrk is not installed."""
    if shutil.which("wrk") is None:
        return None
    probe = subprocess.run(["wrk", "--version"], capture_output=True, text=True, timeout=10)
    return (probe.stdout + probe.stderr).splitlines()[0].strip()


def wrk(url: str, body: bytes | None, connections: int, seconds: float) -> dict[str, float]:
    """One wrk run: requests/s and latency percentiles (ms) over `seconds`; raises on any error.
    Each request POSTs `body`, or with None GETs the URL."""
    threads = min(connections, 2)
    with tempfile.NamedTemporaryFile(suffix=".json") as body_file:
        body_file.write(body or b"")
        body_file.flush()
        run = subprocess.run(
            [
                "wrk",
                f"-t{threads}",
                f"-c{connections}",
                f"-d{max(1, round(seconds))}s",
                "--timeout",
                "10s",
                "-s",
                str(SCRIPT),
                url,
                "--",
                body_file.name if body is not None else "",
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 30,
        )
    summary_lines = [line for line in run.stdout.splitlines() if line.startswith("{")]
    if run.returncode != 0 or not summary_lines:
        raise RuntimeError(f"wrk failed ({run.returncode}): {run.stdout[-500:]} {run.stderr[-500:]}")
    summary = json.loads(summary_lines[-1])
    if summary["errors"] or not summary["requests"]:
        raise RuntimeError(f"wrk saw {summary['errors']} errors in {summary['requests']} requests at {url}")
    return {
        "rps": summary["requests"] / (summary["duration_us"] / 1e6),
        "p50_ms": summary["p50_us"] / 1000,
        "p99_ms": summary["p99_us"] / 1000,
        "requests": summary["requests"],
    }
