"""The Open Inference Protocol (KServe V2), as Triton, MLServer and TorchServe clients speak it.

Inputs, as the metadata says: one FP32 or FP64 tensor `features` of shape [N, F] in feature
order, or one [N] or [N, 1] tensor per feature named after it (MLServer's PandasCodec); data flat
(row-major) or nested with every level as long as the shape says. For a model that takes unknown
inputs, an unknown value is null in the data, or true in an optional BOOL `unknown` tensor shaped
like the features (for numpy's clients, which cannot send null). Outputs: `probability_unsound`
(FP64 [N]) and `label` (INT64 [N]), and for a model that explains its answers the explanation in
log-odds, /predict's `explanation` as tensors: `contributions` (FP64 [N, F], columns in feature
order, which the metadata lists) and `baseline` (FP64 [N]), so that baseline + a row's
contributions = its probability's log-odds. As the protocol has it, `outputs` in the request names
the tensors wanted, all by default; explanations are computed only when one of theirs is wanted. A
body is JSON whatever its Content-Type; Triton's binary tensors are refused. Errors are
`{"error": "..."}`, V1's shape and statuses (ERRORS); a row that cannot be scored fails the
request (a tensor has no place for a row's error), naming the row and the feature. Framework-free:
parsed body in, body out.
"""

from __future__ import annotations

import math
from typing import Any

from .answers import predictions
from .errors import Invalid, NotFound, detail
from .kserve_v1 import ERRORS, STATUSES, error_body, served  # noqa: F401 - V2's errors are V1's, shape and statuses
from .payloads import parse_rows

MATRIX = "features"
DATATYPES = ("FP32", "FP64")
# For a model that takes unknown inputs, and clients that cannot send null in a tensor (numpy's
# arrays have no null: tritonclient, MLServer's codecs): an optional BOOL tensor shaped like the
# features [N, F], true where a feature is unknown; the value sent in its place is not read.
UNKNOWN = "unknown"
BINARY_HEADER = "inference-header-content-length"  # Triton's binary tensor extension: JSON, then raw bytes
OUTPUTS = {"probability_unsound": "FP64", "label": "INT64", "contributions": "FP64", "baseline": "FP64"}
EXPLANATION = ("contributions", "baseline")  # outputs of a model that explains; computed only when wanted
PLATFORM = ""  # "<project>_<format>" names a framework the spec lists; ours is none of them
SERVER = {"name": "soundness", "version": "1", "extensions": []}  # GET /v2: tensors travel as JSON only
LIVE = {"live": True}  # GET /v2/health/live: never loads the model
MAX_DIMENSION = 2**63 - 1  # the protocol's shapes are int64
MAX_RANK = 2  # [N, F] for the features, [N] or [N, 1] for one feature


def invalid(message: str, field: str | None = None, problem: str | None = None) -> Invalid:
    return Invalid("invalid_request", message, [detail(field, problem)] if problem else [])


def media_type(headers: dict[str, str]) -> str:
    """What an infer body is read as: JSON, whatever its Content-Type, as Triton and KServe read it
    (tritonclient's asyncio client declares application/octet-stream), unless Triton's binary
    extension's header says tensors follow the JSON in raw bytes, which is not offered here."""
    if BINARY_HEADER in headers:
        raise invalid(
            "binary tensor data is not supported; send the tensors as JSON (tritonclient: binary_data=False)",
            "Inference-Header-Content-Length",
            "is Triton's binary tensor extension",
        )
    return "application/json"


# ---------------------------------------------------------------- health and metadata


def ready(predictor) -> dict[str, bool]:
    return {"ready": True}  # given a predictor, the model loaded; the caller answers 503 when it cannot


def _model(predictor, name: str, version: str | None) -> None:
    served(predictor, name)
    if version is not None and version != predictor.version:
        raise NotFound(
            "model_not_found",
            f"version {version[:100]!r} of {name!r} is not served here",
            [detail("version", f"must be {predictor.version!r}, the version served here")],
        )


def model_ready(predictor, name: str, version: str | None = None) -> dict[str, Any]:
    _model(predictor, name, version)
    return {"name": predictor.name, "ready": True}


def _outputs(predictor) -> list[str]:
    """The outputs this model gives: the explanation's only when it can explain."""
    return [output for output in OUTPUTS if predictor.explains or output not in EXPLANATION]


def _columns(predictor) -> dict[str, Any]:
    """What the columns of an [N, F] tensor mean: the model's features, in order. The protocol's
    metadata tensor has no field for it; `parameters` is where MLServer's metadata carries more."""
    return {"shape": [-1, len(predictor.features)], "parameters": {"features": list(predictor.features)}}


def _input_forms(predictor) -> dict[str, Any]:
    """The other inputs the model takes, as the metadata's `parameters` lists them: `inputs` holds
    one form only, since a client may send every input listed there."""
    forms: dict[str, Any] = {
        "per_feature_inputs": [
            {"name": feature, "datatype": "FP64", "shape": [-1, 1], "parameters": {"shapes": [[-1], [-1, 1]]}}
            for feature in predictor.features
        ],
    }
    if predictor.accepts_missing:
        forms["unknown_mask"] = {"name": UNKNOWN, "datatype": "BOOL", **_columns(predictor)}
    return forms


def metadata(predictor, name: str, version: str | None = None) -> dict[str, Any]:
    _model(predictor, name, version)
    columns = _columns(predictor)
    matrix = {"name": MATRIX, "datatype": "FP64", **columns}
    matrix["parameters"] = {
        **columns["parameters"],
        "datatypes": list(DATATYPES),  # each input in either
        "accepts_unknown": predictor.accepts_missing,  # null in data, or the unknown mask
    }
    return {
        "name": predictor.name,
        "versions": [predictor.version],
        "platform": PLATFORM,
        "inputs": [matrix],
        "parameters": _input_forms(predictor),
        "outputs": [
            {
                "name": output,
                "datatype": OUTPUTS[output],
                **(_columns(predictor) if output == "contributions" else {"shape": [-1]}),
            }
            for output in _outputs(predictor)
        ],
    }


# ---------------------------------------------------------------- inference


def infer(predictor, body: Any, name: str, max_batch: int, version: str | None = None) -> tuple[dict[str, Any], int]:
    """The inference response for a V2 request body, and how many rows it carried."""
    _model(predictor, name, version)
    if not isinstance(body, dict) or not isinstance(body.get("inputs"), list) or not body["inputs"]:
        raise invalid("expected an inference request with inputs", "inputs", "must be a non-empty array of tensors")
    if "id" in body and not isinstance(body["id"], str):
        raise invalid("the request id must be a string", "id", "must be a string")
    _parameters(body, "parameters")
    wanted = _requested_outputs(body.get("outputs"), _outputs(predictor))
    rows = _rows(body["inputs"], predictor.features, max_batch, predictor.accepts_missing)
    parsed = parse_rows({"data": rows}, predictor.features, max_batch, predictor.accepts_missing)
    answers = predictions(predictor, parsed, explain=not set(wanted).isdisjoint(EXPLANATION))
    refused = [d for a in answers if "error" in a for d in a["error"]["details"]]
    if refused:
        raise Invalid("invalid_input", "some rows cannot be scored", refused)
    response = {
        "model_name": predictor.name,
        "model_version": predictor.version,
        "outputs": [_output(output, answers, predictor.features) for output in wanted],
    }
    if "id" in body:
        response["id"] = body["id"]
    return response, len(rows)


def _output(output: str, answers: list[dict[str, Any]], features: list[str]) -> dict[str, Any]:
    """One output tensor of the answers, its data flat in row-major order."""
    shape = [len(answers)]
    if output == "contributions":
        shape.append(len(features))
        data = [a["explanation"]["contributions"][f] for a in answers for f in features]
    elif output == "baseline":
        data = [a["explanation"]["baseline"] for a in answers]
    else:
        data = [a[output] for a in answers]
    return {"name": output, "datatype": OUTPUTS[output], "shape": shape, "data": data}


def _requested_outputs(outputs: Any, given: list[str]) -> list[str]:
    """The outputs the request names (in its order, once each), all the model gives by default."""
    if outputs is None:
        return given
    if not isinstance(outputs, list) or not outputs or not all(isinstance(o, dict) for o in outputs):
        raise invalid(
            "outputs, when given, name the outputs wanted", "outputs", 'must be a non-empty array of {"name": ...}'
        )
    unknown = [str(o.get("name"))[:50] for o in outputs if not isinstance(o.get("name"), str) or o["name"] not in given]
    if unknown:
        raise invalid("this model's outputs are " + ", ".join(given), "outputs", "asks for " + ", ".join(unknown))
    for output in outputs:
        _parameters(output, "outputs")
    return list(dict.fromkeys(o["name"] for o in outputs))


def _parameters(holder: dict, field: str) -> dict:
    """The protocol's parameters object of a request, input or output ({} when absent)."""
    parameters = holder.get("parameters", {})
    if not isinstance(parameters, dict):
        raise invalid(
            "parameters must be an object of names and values", field, "has parameters that are not an object"
        )
    return parameters


def _rows(inputs: list, features: list[str], max_batch: int, missing: bool) -> list[list[Any]]:
    """The inputs as rows of feature values in the model's order, None where a value is unknown."""
    tensors: dict[str, tuple[list[Any], list[int]]] = {}
    for i, tensor in enumerate(inputs):
        name, values, shape = _tensor(tensor, i)
        if name in tensors:
            raise invalid(f"input {name!r} is given twice", name, "appears more than once")
        tensors[name] = (values, shape)
    mask = tensors.pop(UNKNOWN, None)
    width = len(features)
    if set(tensors) == {MATRIX}:
        values, shape = tensors[MATRIX]
        if len(shape) != 2 or shape[1] != width:
            raise invalid(f"{MATRIX} must have shape [N, {width}]", MATRIX, f"has shape {shape}")
        count = shape[0]
        rows = [values[r * width : (r + 1) * width] for r in range(count)]
    elif set(tensors) == set(features):
        shapes = {tuple(shape) for _, shape in tensors.values()}
        shape = list(next(iter(shapes)))
        if len(shapes) != 1 or shape[1:] not in ([], [1]):
            raise invalid(
                "each feature's input must have the same shape, [N] or [N, 1]",
                "shape",
                f"got {sorted(list(s) for s in shapes)}",
            )
        count = shape[0]
        rows = [list(row) for row in zip(*(tensors[f][0] for f in features))]
    else:
        raise invalid(
            f"send one input {MATRIX!r} of shape [N, {width}], or one input of shape [N] or [N, 1] per "
            "feature named after it: " + ", ".join(features),
            "inputs",
            "got " + ", ".join(str(name)[:50] for name in tensors),
        )
    if not 1 <= count <= max_batch:
        raise invalid(f"between 1 and {max_batch} rows per request", "shape", f"has {count} rows")
    return rows if mask is None else _unknown(rows, mask, missing)


def _unknown(rows: list[list[Any]], mask: tuple[list[Any], list[int]], missing: bool) -> list[list[Any]]:
    """The rows with None where the unknown mask says true."""
    flags, shape = mask
    if not missing:
        raise invalid("this model needs every input known", UNKNOWN, "is only for a model that takes unknown inputs")
    wanted = [len(rows), len(rows[0])]
    if shape != wanted:
        raise invalid(f"input {UNKNOWN!r} must have the features' shape {wanted}", UNKNOWN, f"has shape {shape}")
    if not all(isinstance(flag, bool) for flag in flags):
        raise invalid(f"input {UNKNOWN!r} holds true or false", UNKNOWN, "has a value that is not a boolean")
    width = wanted[1]
    return [[None if flags[r * width + c] else value for c, value in enumerate(row)] for r, row in enumerate(rows)]


def _tensor(tensor: Any, index: int) -> tuple[str, list[Any], list[int]]:
    """One input's name, flat values and shape, checked against each other."""
    if not isinstance(tensor, dict) or not isinstance(tensor.get("name"), str):
        raise invalid(f"input {index} must be a tensor object with a name", "inputs", f"input {index} has no name")
    name = tensor["name"]
    if _parameters(tensor, name).get("binary_data_size") is not None:
        raise invalid("binary tensor data is not supported; send the data as JSON", name, "has binary_data_size")
    datatypes = ("BOOL",) if name == UNKNOWN else DATATYPES
    if tensor.get("datatype") not in datatypes:
        raise invalid(
            f"input {name!r} must be one of " + ", ".join(datatypes),
            name,
            f"has datatype {str(tensor.get('datatype'))[:20]!r}",
        )
    shape = tensor.get("shape")
    if (
        not isinstance(shape, list)
        or not shape
        or not all(isinstance(d, int) and not isinstance(d, bool) and 0 <= d <= MAX_DIMENSION for d in shape)
    ):
        raise invalid(f"input {name!r} needs a shape of non-negative 64-bit integers", name, "has no valid shape")
    if len(shape) > MAX_RANK:
        raise invalid(
            f"input {name!r} has {len(shape)} dimensions; at most {MAX_RANK}", name, "has too many dimensions"
        )
    values = _flat(tensor.get("data"), shape, name)
    if len(values) != math.prod(shape):
        raise invalid(
            f"input {name!r} has {len(values)} values for shape {shape}",
            name,
            f"shape {shape} needs {math.prod(shape)} values",
        )
    return name, values, shape


def _flat(data: Any, shape: list[int], name: str) -> list[Any]:
    """Row-major values of data given flat, or nested with each level as long as the shape says:
    a ragged level would otherwise shift values into other rows and columns."""
    if not isinstance(data, list):
        raise invalid(f"input {name!r} needs its data as an array", name, "data must be an array")
    if not any(isinstance(v, list) for v in data):
        return data  # flat: the caller checks the count
    level_items: list[Any] = [data]
    for level, size in enumerate(shape):
        for i, items in enumerate(level_items):
            if not isinstance(items, list) or len(items) != size:
                where = "data" + "".join(f"[{j}]" for j in _position(i, shape[:level]))
                got = f"{len(items)} value{'s' * (len(items) != 1)}" if isinstance(items, list) else "a single value"
                raise invalid(
                    f"input {name!r}: its nested data disagrees with its shape {shape} at nesting level {level}",
                    name,
                    f"{where} has {got} where dimension {level} of the shape is {size}",
                )
        level_items = [item for items in level_items for item in items]
    if any(isinstance(v, list) for v in level_items):
        raise invalid(
            f"input {name!r}: its data is nested deeper than its shape {shape}",
            name,
            f"nesting level {len(shape)} holds arrays",
        )
    return level_items


def _position(index: int, dimensions: list[int]) -> list[int]:
    """The indices, one per dimension, of the index-th item of a row-major array of these dimensions."""
    position = []
    for size in reversed(dimensions):
        index, at = divmod(index, size)
        position.append(at)
    return position[::-1]
