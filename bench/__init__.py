"""Benchmarks: `python -m bench.run` measures our function beside the legacy way of serving."""

# Before anything imports numpy: soundness sets one BLAS thread, as in the function, so the
# in-process figures are the function's (OpenBLAS's own threads made them several times slower).
import soundness  # noqa: F401
