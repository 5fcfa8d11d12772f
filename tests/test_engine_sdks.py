"""MLServer's types and codecs and KServe's Python SDK (V1 and V2 REST) as clients of the function
served as production serves it. Each runs in its own environment (`make engines`: .venv-mlserver,
.venv-kserve; they pin what the function's cannot share), as tests/engines/*_client.py, which print
what the engine's client made of each answer; the answers are held to /predict's here, to the last
bit, unknown inputs included (PandasCodec writes NaN as null; the numpy forms send the mask).
"""

from __future__ import annotations

import json
import subprocess

import pytest

from helpers import DEFAULT_MODEL, LEGACY_STATEMENT, ROOT, post_json

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def served():
    """A real server of the bundled model; what every client sends it; /predict's answers."""
    from harness.server import warm

    server = warm({"MODEL_DIR": str(DEFAULT_MODEL)})
    companies = [LEGACY_STATEMENT, {**LEGACY_STATEMENT, "revenue_prior": None, "net_income": -9e9}]
    status, body, _ = post_json(server.url + "/predict", {"companies": companies})
    assert status == 200
    features = list(body["predictions"][0]["ratios"])
    given = {
        "url": server.url,
        "model": body["model"]["name"],
        "features": features,
        "rows": [[p["ratios"][f] for f in features] for p in body["predictions"]],
    }
    yield given, body["predictions"]
    server.stop()


def run_client(engine: str, given: dict) -> dict:
    python = ROOT / f".venv-{engine}" / "bin" / "python"
    if not python.exists():
        pytest.skip(f"{python} is absent: `make engines` builds {engine}'s own environment for this test")
    script = ROOT / "tests" / "engines" / f"{engine}_client.py"
    done = subprocess.run(
        [str(python), str(script)], input=json.dumps(given), capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def as_tensors(answers: list[dict], features: list[str]) -> dict[str, list]:
    return {
        "probability_unsound": [a["probability_unsound"] for a in answers],
        "label": [a["label"] for a in answers],
        "contributions": [[a["explanation"]["contributions"][f] for f in features] for a in answers],
        "baseline": [a["explanation"]["baseline"] for a in answers],
    }


def test_mlservers_codecs_build_requests_the_function_answers_as_predict_does(served):
    given, answers = served
    got = run_client("mlserver", given)
    assert got["metadata"] == {"status": 200, "inputs": ["features"]}
    expected = {"status": 200, **as_tensors(answers, given["features"])}
    assert got["pandas"] == expected  # PandasCodec: one [N, 1] tensor per feature, NaN as null
    assert got["numpy"] == expected  # NumpyCodec: the [N, F] tensor and the BOOL unknown mask
    assert got["wrong"]["status"] == 400 and f"[N, {len(given['features'])}]" in got["wrong"]["error"]


def test_kserves_sdk_speaks_v1_and_v2_with_the_function(served):
    given, answers = served
    got = run_client("kserve", given)
    assert got["v1_live"] is True and got["v1_ready"] is True  # GET / as KServe's liveness
    v1 = got["v1_predict"]["predictions"]
    assert [(p["probability_unsound"], p["explanation"]) for p in v1] == [
        (a["probability_unsound"], a["explanation"]) for a in answers
    ]
    assert [e["explanation"] for e in got["v1_explain"]["explanations"]] == [a["explanation"] for a in answers]
    assert got["v1_other"]["status"] == 404 and "'other-model' is not served here" in got["v1_other"]["message"]
    assert got["v2_live"] is True and got["v2_ready"] is True and got["v2_model_ready"] is True
    assert got["v2_infer"] == {"id": "k1", **as_tensors(answers, given["features"])}
    assert got["v2_binary"]["status"] == 400 and "binary tensor data is not supported" in got["v2_binary"]["message"]
