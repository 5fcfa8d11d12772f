"""Where one predict request's time goes in process: each stage of the route's code path alone.

    .venv/bin/python -m bench.stages [--model artifacts/default] [--repeats 5]

Stages, in the order POST /predict runs them: read the body (JSON, validation by the declared
shapes, ratios); score them (preprocessing and the network), with and without explanations; write the
answer as JSON. For 1 and 1000 companies; CPU time per call, median over repetitions (CPU time
leaves out waiting for a core on a shared machine). What the server and the request cycle add
around these is measured over HTTP by bench.run. Checks issue 12's bound on an explanation's cost:
at most 1 ms a company ("score and explain" less "score, no explanations", for one company).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

from . import bodies
from .inprocess import per_call_seconds

ROOT = Path(__file__).resolve().parent.parent
EXPLANATION_LIMIT_US = 1000.0


def stages(predictor, n: int, max_batch: int = 1000) -> dict[str, object]:
    """A call per stage for a request of n companies (each stage given the previous one's output)."""
    from soundness_api.answers import predictions
    from soundness_api.payloads import parse_request
    from soundness_api.responses import json_response

    raw = bodies.body("companies", n)
    rows = parse_request(raw, predictor.features, max_batch, predictor.accepts_missing).rows
    answered = {"predictions": predictions(predictor, rows, explain=True)}
    return {
        "read the body (JSON, validation, ratios)": lambda: parse_request(
            raw, predictor.features, max_batch, predictor.accepts_missing
        ),
        "score, no explanations": lambda: predictions(predictor, rows, explain=False),
        "score and explain": lambda: predictions(predictor, rows, explain=True),
        "write the answer (JSON)": lambda: json_response(answered),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=ROOT / "artifacts" / "default")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT / "function"))
    from soundness_api.lazy_model import LazyModel

    predictor = LazyModel(args.model).get()
    one = {}
    for n in (1, 1000):
        unit, scale = ("us", 1e6) if n == 1 else ("ms", 1e3)
        for name, call in stages(predictor, n).items():
            cpu = statistics.median(c for _, c in per_call_seconds(call, args.repeats, 0.5)) * scale
            print(f"{n:5} companies  {name:38} {cpu:9.1f} {unit} CPU")
            if n == 1:
                one[name] = cpu
    explanation = one["score and explain"] - one["score, no explanations"]
    met = "met" if explanation <= EXPLANATION_LIMIT_US else "NOT MET"
    print(f"[{met}] an explanation costs <= {EXPLANATION_LIMIT_US:g} us a company: {explanation:.1f} us")
    return 0


if __name__ == "__main__":
    sys.exit(main())
