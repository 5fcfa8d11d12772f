"""Financial soundness prediction: the model core.

The ratio formulas, the model artifact format and the predictor. Training, the importer
and the HTTP function (`function/`) all build on it; importing it loads nothing heavy.
"""
