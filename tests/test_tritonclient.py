"""Triton's own Python client (tritonclient[http], sync and asyncio) against the function served as
production serves it: health, metadata, inference in every input form, `outputs`, unknown inputs
(null is not sendable from numpy: the `unknown` mask), and errors, which the client must be able to
read and format (its InferenceServerException needs the protocol's `{"error": "<string>"}`).
"""

from __future__ import annotations

import asyncio

import pytest

from helpers import DEFAULT_MODEL, LEGACY_STATEMENT, post_json

np = pytest.importorskip("numpy")
http = pytest.importorskip("tritonclient.http")
aio = pytest.importorskip("tritonclient.http.aio")
from tritonclient.utils import InferenceServerException  # noqa: E402 - after the skip

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def server():
    from harness.server import warm

    served = warm({"MODEL_DIR": str(DEFAULT_MODEL)})
    yield served
    served.stop()


@pytest.fixture(scope="module")
def predicted(server) -> dict:
    """Three companies, one with a statement value left out, and /predict's answer for them."""
    companies = [
        LEGACY_STATEMENT,
        {**LEGACY_STATEMENT, "net_income": -9e9, "operating_income": -4e9},
        {**LEGACY_STATEMENT, "revenue_prior": None},
    ]
    status, body, _ = post_json(server.url + "/predict", {"companies": companies})
    assert status == 200
    return body


@pytest.fixture(scope="module")
def features(predicted) -> list[str]:
    return list(predicted["predictions"][0]["explanation"]["contributions"])


@pytest.fixture
def triton(server):
    client = http.InferenceServerClient(server.url.removeprefix("http://"))
    yield client
    client.close()


def rows_and_mask(predicted, features) -> tuple[np.ndarray, np.ndarray]:
    """The companies' features as numpy has them: NaN where unknown, and the mask that says so."""
    rows = np.array(
        [[np.nan if p["ratios"][f] is None else p["ratios"][f] for f in features] for p in predicted["predictions"]]
    )
    return rows, np.isnan(rows)


def matrix_inputs(rows: np.ndarray, unknown: np.ndarray, datatype: str = "FP64") -> list:
    x = http.InferInput("features", list(rows.shape), datatype)
    x.set_data_from_numpy(
        np.nan_to_num(rows).astype(np.float32 if datatype == "FP32" else np.float64), binary_data=False
    )
    mask = http.InferInput("unknown", list(unknown.shape), "BOOL")
    mask.set_data_from_numpy(unknown, binary_data=False)
    return [x, mask]


def assert_as_predicted(result, predicted, features) -> None:
    answers = predicted["predictions"]
    assert result.as_numpy("probability_unsound").tolist() == [a["probability_unsound"] for a in answers]
    assert result.as_numpy("label").tolist() == [a["label"] for a in answers]
    assert result.as_numpy("contributions").tolist() == [
        [a["explanation"]["contributions"][f] for f in features] for a in answers
    ]
    assert result.as_numpy("baseline").tolist() == [a["explanation"]["baseline"] for a in answers]


# ---------------------------------------------------------------- the synchronous client


def test_health_and_metadata(triton, predicted, features):
    name, version = predicted["model"]["name"], predicted["model"]["version"]
    assert triton.is_server_live() and triton.is_server_ready()
    assert triton.is_model_ready(name) and triton.is_model_ready(name, version)
    assert not triton.is_model_ready("other-model")
    assert triton.get_server_metadata()["extensions"] == []
    metadata = triton.get_model_metadata(name)
    assert metadata["platform"] == "" and metadata["versions"] == [version]
    assert metadata["inputs"][0]["parameters"]["features"] == features
    assert [t["name"] for t in metadata["parameters"]["per_feature_inputs"]] == features
    assert metadata["parameters"]["unknown_mask"]["datatype"] == "BOOL"


def test_the_matrix_with_its_unknown_mask_is_answered_as_predict_answers(triton, predicted, features):
    rows, unknown = rows_and_mask(predicted, features)
    assert unknown.any()
    result = triton.infer(predicted["model"]["name"], matrix_inputs(rows, unknown), request_id="r1")
    assert result.get_response()["id"] == "r1"
    assert_as_predicted(result, predicted, features)


def test_one_tensor_per_feature_is_answered_as_the_matrix_is(triton, predicted, features):
    rows, unknown = rows_and_mask(predicted, features)
    inputs = []
    for i, name in enumerate(features):
        column = http.InferInput(name, [len(rows), 1], "FP64")  # MLServer's PandasCodec shape
        column.set_data_from_numpy(np.nan_to_num(rows[:, i : i + 1]), binary_data=False)
        inputs.append(column)
    mask = http.InferInput("unknown", list(unknown.shape), "BOOL")
    mask.set_data_from_numpy(unknown, binary_data=False)
    assert_as_predicted(triton.infer(predicted["model"]["name"], [*inputs, mask]), predicted, features)


def test_fp32_inputs_are_scored_as_their_values_read_as_doubles(server, triton, predicted, features):
    rows, unknown = rows_and_mask(predicted, features)
    result = triton.infer(predicted["model"]["name"], matrix_inputs(rows, unknown, "FP32"))
    as_doubles = np.nan_to_num(rows).astype(np.float32).astype(np.float64).tolist()
    as_doubles = [[None if u else v for v, u in zip(row, mask)] for row, mask in zip(as_doubles, unknown)]
    _, expected, _ = post_json(server.url + "/predict", {"data": as_doubles})
    assert result.as_numpy("probability_unsound").tolist() == [
        p["probability_unsound"] for p in expected["predictions"]
    ]


def test_outputs_named_are_the_only_ones_given(triton, predicted, features):
    rows, unknown = rows_and_mask(predicted, features)
    wanted = [http.InferRequestedOutput("label", binary_data=False)]
    result = triton.infer(predicted["model"]["name"], matrix_inputs(rows, unknown), outputs=wanted)
    assert [o["name"] for o in result.get_response()["outputs"]] == ["label"]
    assert result.as_numpy("contributions") is None


@pytest.mark.parametrize(
    "call, status, words",
    [
        (lambda t, name: t.get_model_metadata("other-model"), "404", ["'other-model'", "not served here"]),
        (lambda t, name: t.get_model_metadata(name, "9.9"), "404", ["'9.9'"]),
        (lambda t, name: t.get_model_config(name), "404", ["no route"]),
        (lambda t, name: t.get_model_repository_index(), "404", ["no route"]),
        (lambda t, name: t.get_inference_statistics(name), "404", ["no route"]),
        (lambda t, name: t.load_model(name), "404", ["no route"]),
    ],
)
def test_what_is_not_offered_is_an_error_the_client_reads_and_formats(triton, predicted, call, status, words):
    with pytest.raises(InferenceServerException) as raised:
        call(triton, predicted["model"]["name"])
    assert raised.value.status() == status
    text = str(raised.value)  # tritonclient's own formatting: "[status] message"
    assert text.startswith(f"[{status}] ")
    for word in words:
        assert word in raised.value.message()


def test_a_tensor_that_does_not_fit_is_a_400_naming_it(triton, predicted, features):
    rows, _ = rows_and_mask(predicted, features)
    x = http.InferInput("features", [len(rows), len(features) - 1], "FP64")
    x.set_data_from_numpy(np.nan_to_num(rows[:, 1:]), binary_data=False)
    with pytest.raises(InferenceServerException) as raised:
        triton.infer(predicted["model"]["name"], [x])
    assert raised.value.status() == "400" and f"[N, {len(features)}]" in raised.value.message()
    numpy_nan = http.InferInput("features", list(rows.shape), "FP64")
    numpy_nan.set_data_from_numpy(rows, binary_data=False)  # NaN without the mask: refused, never guessed
    with pytest.raises(InferenceServerException) as raised:
        triton.infer(predicted["model"]["name"], [numpy_nan])
    assert raised.value.status() == "400" and "row 2" in raised.value.message()


def test_binary_tensors_are_refused_saying_so(triton, predicted, features):
    rows, _ = rows_and_mask(predicted, features)
    x = http.InferInput("features", list(rows.shape), "FP64")
    x.set_data_from_numpy(np.nan_to_num(rows), binary_data=True)  # tritonclient's default
    with pytest.raises(InferenceServerException) as raised:
        triton.infer(predicted["model"]["name"], [x])
    assert raised.value.status() == "400" and "binary tensor data is not supported" in raised.value.message()


# ---------------------------------------------------------------- the asyncio client (aiohttp)


def test_the_asyncio_client_checks_health_reads_metadata_infers_and_reads_errors(server, predicted, features):
    rows, unknown = rows_and_mask(predicted, features)
    name = predicted["model"]["name"]

    async def session():
        client = aio.InferenceServerClient(server.url.removeprefix("http://"))
        try:
            assert await client.is_server_live() and await client.is_server_ready()
            assert await client.is_model_ready(name)
            metadata = await client.get_model_metadata(name)
            # aiohttp declares the body application/octet-stream: read as JSON all the same
            result = await client.infer(name, matrix_inputs(rows, unknown), request_id="a1")
            only = await client.infer(
                name, matrix_inputs(rows, unknown), outputs=[aio.InferRequestedOutput("label", binary_data=False)]
            )
            with pytest.raises(InferenceServerException) as missing:
                await client.get_model_config(name)
            with pytest.raises(InferenceServerException) as other:
                await client.infer("other-model", matrix_inputs(rows, unknown))
            return metadata, result, only, missing.value, other.value
        finally:
            await client.close()

    metadata, result, only, missing, other = asyncio.run(session())
    assert metadata["inputs"][0]["parameters"]["features"] == features
    assert result.get_response()["id"] == "a1"
    assert_as_predicted(result, predicted, features)
    assert [o["name"] for o in only.get_response()["outputs"]] == ["label"]
    assert missing.status() == "404" and str(missing).startswith("[404] ")
    assert other.status() == "404" and "'other-model'" in other.message()
