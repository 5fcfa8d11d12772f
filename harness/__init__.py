"""What tests and benchmarks share: the function run as production runs it."""
