"""The HTTP adapter: routes, request parsing and validation, errors, configuration, logs.

The model core (ratios, artifacts, the predictor) is the `soundness` package; this one
turns HTTP requests into its calls and its answers into HTTP responses.
"""
