"""Benchmarks: `python -m bench.run` measures our function beside the seed's way of serving."""
