"""What an explanation costs: per company in process, and a 1000-company request with and without.

    .venv/bin/python -m bench.explain [--model artifacts/default]

Target (issue 12): at most 1 ms per company in process. Prints wall and CPU medians over
repetitions; CPU time leaves out waiting for a core on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

import numpy as np

from . import bodies
from .inprocess import per_call_seconds

ROOT = Path(__file__).resolve().parent.parent
TARGET_MS = 1.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=ROOT / "artifacts" / "default")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT / "function"))
    from api.answers import answer
    from api.lazy_model import LazyModel
    from api.payloads import parse_json

    predictor = LazyModel(args.model).get()
    if not predictor.explains:
        print(f"{args.model} carries no explanation background", file=sys.stderr)
        return 2
    rng = np.random.default_rng(0)
    row = rng.normal(size=(1, len(predictor.features)))
    figures = {"explain one company (in process)": per_call_seconds(lambda: predictor.explain(row), args.repeats, 0.5)}
    for explain in (True, False):
        raw = json.dumps({**json.loads(bodies.body("companies", 1000)), "explain": explain}).encode()
        figures[f"1000-company request, explain={str(explain).lower()}"] = per_call_seconds(
            lambda raw=raw: answer(predictor, parse_json(raw, "application/json"), 1000), args.repeats, 2.0
        )
    for name, runs in figures.items():
        wall = statistics.median(w for w, _ in runs) * 1e3
        cpu = statistics.median(c for _, c in runs) * 1e3
        print(f"{name}: wall {wall:.3f} ms, CPU {cpu:.3f} ms (median of {len(runs)})")
    per_company = statistics.median(c for _, c in figures["explain one company (in process)"]) * 1e3
    print(f"target <= {TARGET_MS} ms per company: {'met' if per_company <= TARGET_MS else 'missed'} (CPU)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
