"""Making model artifacts: training on real data, evaluation, and import of existing models."""
