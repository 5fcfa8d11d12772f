"""Financial soundness prediction: ratios, model artifacts and the HTTP service.

Importing the package loads nothing heavy: torch and scikit-learn are imported on the
first prediction, so a fresh instance answers health checks at once.
"""
