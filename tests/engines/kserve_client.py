"""KServe's Python SDK (its asynchronous REST client, V1 and V2) as a client of the served function;
run by tests/test_engine_sdks.py in KServe's environment (`make engines`), not in the project's.

stdin: {"url", "model", "features", "rows"} (rows of feature values, null where unknown).
stdout: what each of the SDK's calls answered, or the error it raised.
"""

import asyncio
import json
import sys
from importlib.metadata import version

import httpx
import numpy as np
from kserve import InferenceRESTClient, InferInput, InferRequest, RESTConfig


async def attempt(call):
    try:
        return await call
    except httpx.HTTPStatusError as error:
        return {"status": error.response.status_code, "message": str(error)}


async def main() -> dict:
    given = json.load(sys.stdin)
    url, model, rows = given["url"], given["model"], given["rows"]
    instances = [dict(zip(given["features"], row)) for row in rows]
    answers: dict = {"versions": {"kserve": version("kserve"), "httpx": version("httpx")}}
    async with InferenceRESTClient(RESTConfig(protocol="v1")) as v1:
        answers["v1_live"] = await v1.is_server_live(url)
        answers["v1_ready"] = await v1.is_model_ready(url, model)
        answers["v1_predict"] = await v1.infer(url, {"instances": instances}, model_name=model)
        answers["v1_explain"] = await v1.explain(url, model, {"instances": instances})
        answers["v1_other"] = await attempt(v1.infer(url, {"instances": instances}, model_name="other-model"))
    async with InferenceRESTClient(RESTConfig(protocol="v2")) as v2:
        answers["v2_live"] = await v2.is_server_live(url)
        answers["v2_ready"] = await v2.is_server_ready(url)
        answers["v2_model_ready"] = await v2.is_model_ready(url, model)
        values = np.array([[np.nan if v is None else v for v in row] for row in rows], dtype=np.float64)
        features = InferInput("features", list(values.shape), "FP64")
        features.set_data_from_numpy(np.nan_to_num(values), binary_data=False)
        unknown = InferInput("unknown", list(values.shape), "BOOL")
        unknown.set_data_from_numpy(np.isnan(values), binary_data=False)
        request = InferRequest(model_name=model, infer_inputs=[features, unknown], request_id="k1")
        response = await v2.infer(url, request, model_name=model)
        answers["v2_infer"] = {
            "id": response.id,
            **{o.name: o.as_numpy().tolist() for o in response.outputs},
        }
        binary = InferInput("features", list(values.shape), "FP64")
        binary.set_data_from_numpy(np.nan_to_num(values), binary_data=True)
        answers["v2_binary"] = await attempt(v2.infer(url, InferRequest(model, [binary]), model_name=model))
    return answers


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main())))
