"""Benchmarks: `python -m bench.run` measures our function beside the legacy way of serving."""

import sys
from pathlib import Path

# function/ is the deployed folder's root (main.py beside api/): its modules import as `api.*`,
# as they do under functions-framework and the tests (pyproject's pythonpath).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "function"))

# Before anything imports numpy: soundness sets one BLAS thread, as in the function, so the
# in-process figures are the function's (OpenBLAS's own threads made them several times slower).
import soundness  # noqa: F401
