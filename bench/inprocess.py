"""In-process cost of a prediction, without HTTP: the route's code path, and the legacy service's.

Ours is what POST /predict runs between reading the body and writing it back:
check_media_type -> answer (rows, ratios, scaling, network) -> json_response; the model is
loaded by LazyModel as in serving. The legacy service's is bench/baseline/main.py's per-request
load-transform-forward.

    python -m bench.inprocess --model DIR --forms '["companies"]' [--repeats 3]

measures ours in a fresh interpreter, as the function runs: bench.run starts it so, since its own
process has torch and scikit-learn loaded (for the baseline and the legacy model's import), and
their thread pools beside numpy's made ours up to twice as slow in one run. Prints JSON.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

from . import bodies

BASELINE = Path(__file__).resolve().parent / "baseline" / "main.py"
BATCHES = (1, 100, 1000)


def per_call_seconds(call: Callable[[], object], repeats: int, budget: float) -> list[tuple[float, float]]:
    """(wall, CPU) seconds per call, one pair per repetition of about `budget` seconds each.

    CPU time is the process's: on a shared machine it leaves out the time spent waiting for a core.
    """
    call()  # warm: first-call allocations and lazy imports are not the steady state
    started = time.perf_counter()
    call()
    count = max(1, int(budget / max(time.perf_counter() - started, 1e-7)))
    figures = []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(count):
            call()
        figures.append(((time.perf_counter() - wall) / count, (time.process_time() - cpu) / count))
    return figures


def ours(model_dir: Path, forms: tuple[str, ...], max_batch: int = 1000) -> dict[tuple[str, int], Callable]:
    """A call per (input form, batch size): one request through the route's code path."""
    from soundness_api.answers import answer
    from soundness_api.lazy_model import LazyModel
    from soundness_api.payloads import check_media_type
    from soundness_api.responses import json_response

    predictor = LazyModel(model_dir).get()

    def request(raw: bytes) -> Callable[[], object]:
        def call() -> object:
            check_media_type("application/json")
            return json_response(answer(predictor, raw, max_batch)[0])

        return call

    return {(form, n): request(bodies.body(form, n)) for form in forms for n in BATCHES}


def baseline() -> dict[tuple[str, int], Callable]:
    """A call per batch size: the legacy service's per-request load and predict on that many ratio rows."""
    spec = importlib.util.spec_from_file_location("bench_baseline_main", BASELINE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    def request(rows: list) -> Callable[[], object]:
        return lambda: json.dumps({"predictions": module.predict_legacy_way(rows)})

    return {("data", n): request(bodies.legacy_ratios(n)) for n in BATCHES}


def measure(calls: dict[tuple[str, int], Callable], repeats: int, budget: float) -> dict[tuple[str, int], list]:
    return {key: per_call_seconds(call, repeats, budget) for key, call in calls.items()}


def measure_ours(model_dir: Path, forms: tuple[str, ...], repeats: int, budget: float = 0.5) -> dict[str, dict]:
    """Ours in this process: (wall, CPU) seconds per call for each "form|batch size", and for the
    predictor alone on 1 and 1000 rows of the model's features."""
    import numpy as np

    from soundness.artifacts import load
    from soundness.predictor import Predictor

    calls = {f"{form}|{n}": runs for (form, n), runs in measure(ours(model_dir, forms), repeats, budget).items()}
    predictor = Predictor(load(model_dir))
    alone = {}
    for n in (1, 1000):
        rows = np.array(bodies.feature_rows(n, predictor.features))
        alone[str(n)] = per_call_seconds(lambda rows=rows: predictor.probabilities(rows), repeats, budget)
    return {"calls": calls, "predictor": alone}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="our route's in-process cost, measured in this interpreter")
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--forms", type=json.loads, required=True, help="a JSON list of input forms")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    print(json.dumps(measure_ours(args.model, tuple(args.forms), args.repeats)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
