"""MLServer's own request and response types and codecs as a client of the served function; run by
tests/test_engine_sdks.py in MLServer's environment (`make engines`), not in the project's.

stdin: {"url", "model", "features", "rows"} (rows of feature values, null where unknown).
stdout: per request form, the outputs as MLServer's codecs decode them, or the error answered.
"""

import json
import sys
import urllib.error
import urllib.request
from importlib.metadata import version

import numpy as np
import pandas as pd
from mlserver.codecs import NumpyCodec, PandasCodec
from mlserver.types import InferenceRequest, InferenceResponse, MetadataModelResponse


def call(url: str, request: InferenceRequest | None = None) -> tuple[int, bytes]:
    data = None if request is None else request.model_dump_json(exclude_none=True).encode()
    sent = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(sent, timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def decoded(status: int, body: bytes) -> dict:
    if status != 200:
        return {"status": status, "error": json.loads(body)["error"]}
    response = InferenceResponse.model_validate_json(body)
    return {"status": status, **{o.name: NumpyCodec.decode_output(o).tolist() for o in response.outputs}}


def main() -> None:
    given = json.load(sys.stdin)
    base = f"{given['url']}/v2/models/{given['model']}"
    rows = np.array([[np.nan if v is None else v for v in row] for row in given["rows"]], dtype=np.float64)
    frame = pd.DataFrame(rows, columns=given["features"])
    status, body = call(base)
    metadata = MetadataModelResponse.model_validate_json(body)
    pandas = PandasCodec.encode_request(frame)  # one [N, 1] tensor per feature, NaN sent as null
    numpy = InferenceRequest(
        inputs=[
            NumpyCodec.encode_input("features", np.nan_to_num(rows)),
            NumpyCodec.encode_input("unknown", np.isnan(rows)),
        ]
    )
    wrong = InferenceRequest(inputs=[NumpyCodec.encode_input("features", rows[:, 1:])])
    print(
        json.dumps(
            {
                "metadata": {"status": status, "inputs": [t.name for t in metadata.inputs]},
                "pandas": decoded(*call(base + "/infer", pandas)),
                "numpy": decoded(*call(base + "/infer", numpy)),
                "wrong": decoded(*call(base + "/infer", wrong)),
                "versions": {"mlserver": version("mlserver"), "pandas": version("pandas")},
            }
        )
    )


if __name__ == "__main__":
    main()
