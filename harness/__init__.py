"""What tests and benchmarks share: the function run as production runs it."""

import sys
from pathlib import Path

# The HTTP adapter (function/api), importable as functions-framework finds it beside main.py.
FUNCTION = str(Path(__file__).resolve().parent.parent / "function")
if FUNCTION not in sys.path:
    sys.path.insert(0, FUNCTION)
