"""Financial soundness prediction: the model core.

The ratio formulas, the model artifact format and the predictor. Training, the importer
and the HTTP function (`function/`) all build on it; importing it loads nothing heavy.
"""

import os

# One BLAS thread: a server's parallelism is its requests. OpenBLAS's own threads turned a
# 1000-row batch's matrix product from 1.4 ms into 36 ms on this 2-core machine. Effective only
# before numpy is first imported, which is why it is here: the function imports this package first.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
