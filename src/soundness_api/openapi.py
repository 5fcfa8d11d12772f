"""The OpenAPI 3 document of the service: /predict's shapes from their declaration (contract.py),
for the model served; the rest from the same lists the code uses."""

from __future__ import annotations

from typing import Any, Protocol

import msgspec

from soundness import ratios

from . import bigquery, contract, kserve_v1, open_inference
from .config import Settings
from .lookup import FIRST_YEAR, MAX_QUERY_LENGTH, MAX_RESULTS, latest_finished_year

EXPLAIN = {
    "type": "boolean",
    "default": True,
    "description": "false leaves out each prediction's explanation (a large batch answers sooner)",
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return _json(_ref("Error"), description)


def _declared(shape: contract.Shapes) -> dict[str, Any]:
    """The components declared in contract.py: /predict's requests, for this model, and answers."""
    requests = [shape.requests[form] for form in contract.FORMS]
    _, components = msgspec.json.schema_components(
        [*requests, *contract.ANSWERS], ref_template="#/components/schemas/{name}"
    )
    data_row = msgspec.json.schema(shape.rows["data"])
    return {
        **components,
        "DataRow": data_row,
        "PredictRequest": {
            "oneOf": [_ref(request.__name__) for request in requests],
            "description": "Exactly one input form. " + contract.RULES_IN_WORDS,
        },
    }


def _schemas(shape: contract.Shapes) -> dict[str, Any]:
    statement = {
        name: {"type": ["number", "null"], "description": f"{label['en']} ({label['ko']})"}
        for name, label in ratios.STATEMENT_FIELDS.items()
    }
    return {
        **_declared(shape),
        "Health": {
            "type": "object",
            "required": ["status", "model_loaded"],
            "properties": {"status": {"type": "string", "enum": ["ok"]}, "model_loaded": {"type": "boolean"}},
        },
        "Ready": {
            "type": "object",
            "required": ["status", "model"],
            "properties": {"status": {"type": "string", "enum": ["ready"]}, "model": {"type": "object"}},
        },
        "ModelInfo": {
            "type": "object",
            "required": [
                "model",
                "features",
                "classes",
                "decision",
                "metrics",
                "training_data",
                "feature_quantiles",
                "company_lookup",
                "accepts_unknown_inputs",
                "statement_labels",
            ],
            "properties": {
                "features": {"type": "array", "items": {"type": "string"}},
                "statement_labels": {
                    "type": "object",
                    "description": "Each statement field's name in Korean and English",
                    "additionalProperties": {"type": "object", "required": ["ko", "en"]},
                },
                "max_batch": {"type": "integer", "description": "MAX_BATCH: rows per request"},
                "training_data": {
                    "type": "object",
                    "properties": {"description": {"$ref": "#/components/schemas/Bilingual"}},
                },
                "limits": {
                    "type": "array",
                    "description": "What the model cannot say, as its manifest records it",
                    "items": {"$ref": "#/components/schemas/Bilingual"},
                },
                "classes": {"type": "array", "items": {"type": "object"}},
                "company_lookup": {"type": "boolean", "description": "Whether GET /companies is configured"},
                "accepts_unknown_inputs": {
                    "type": "boolean",
                    "description": "Whether the model takes unknown inputs: a company's field absent or null "
                    "is scored as unknown, with an unknown_inputs warning naming the ratios it leaves unknown; "
                    "false: every field is needed",
                },
            },
        },
        "Bilingual": {
            "description": "A text in Korean and English (a model's manifest may record one language only)",
            "oneOf": [
                {"type": "string"},
                {
                    "type": "object",
                    "required": ["ko", "en"],
                    "properties": {"ko": {"type": "string"}, "en": {"type": "string"}},
                },
            ],
        },
        "ListedCompany": {
            "type": "object",
            "required": ["corp_code", "name", "name_en", "stock_code"],
            "properties": {
                "corp_code": {"type": "string", "pattern": "^[0-9]{8}$", "description": "DART's 8-digit company code"},
                "name": {"type": "string"},
                "name_en": {"type": ["string", "null"]},
                "stock_code": {"type": "string", "description": "6-character stock code (of the common share)"},
            },
        },
        "LookupWarning": {
            "type": "object",
            "required": ["code", "message", "ko", "en"],
            "description": "financial_company (the model was not made for banks, insurers, securities firms or "
            "financial holding companies), separate_statements_only, preferred_share (the common share's "
            "statements), latest_year_not_filed (no year asked: the year before the latest finished one is given)",
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "ko": {"type": "string"},
                "en": {"type": "string"},
            },
        },
        "Companies": {
            "type": "object",
            "required": ["companies"],
            "properties": {"companies": {"type": "array", "maxItems": MAX_RESULTS, "items": _ref("ListedCompany")}},
        },
        "Statements": {
            "type": "object",
            "required": ["company", "year", "statements", "missing", "source", "currency", "market", "warnings"],
            "properties": {
                "company": _ref("ListedCompany"),
                "year": {"type": "integer"},
                "statements": {
                    "type": "object",
                    "required": list(statement),
                    "description": "All nine fields, null where the filing does not give the account "
                    "(`missing` says why); as they are, a valid company for POST /predict",
                    "properties": {
                        name: {"type": ["number", "null"], "description": s["description"]}
                        for name, s in statement.items()
                    },
                },
                "missing": {
                    "type": "array",
                    "items": _ref("Detail"),
                    "maxItems": len(statement),
                    "description": "The fields the filing does not give, in the form's order, each with why "
                    "(no such account, or its amount left blank: a first filing has no prior year). Empty "
                    "for a complete filing. Only a model that takes unknown inputs gets an answer with "
                    "missing fields; for other models such a filing is 422 accounts_missing",
                },
                "source": {
                    "type": "object",
                    "required": ["rcept_no", "url", "fs_div", "report"],
                    "properties": {
                        "rcept_no": {"type": "string"},
                        "url": {"type": "string"},
                        "fs_div": {
                            "type": "string",
                            "enum": ["CFS", "OFS"],
                            "description": "consolidated (CFS) or separate (OFS)",
                        },
                        "report": {"type": "string", "enum": ["annual"]},
                        "thstrm_dt": {
                            "type": ["string", "null"],
                            "description": "This year's period as the filing states it (2023.04.01 ~ 2024.03.31: a March year-end)",
                        },
                        "frmtrm_dt": {"type": ["string", "null"], "description": "The prior year's period"},
                    },
                },
                "currency": {"type": ["string", "null"]},
                "market": {
                    "type": ["string", "null"],
                    "enum": ["KOSPI", "KOSDAQ", "KONEX", "OTHER", None],
                    "description": "From DART's company profile (corp_cls), when DART gives it",
                },
                "warnings": {"type": "array", "items": _ref("LookupWarning")},
            },
        },
        "History": {
            "type": "object",
            "required": ["model", "company", "fs", "years", "absent"],
            "properties": {
                "model": {"type": "object"},
                "company": _ref("ListedCompany"),
                "fs": {"type": ["string", "null"], "enum": ["CFS", "OFS", None]},
                "years": {
                    "type": "array",
                    "description": "Each fiscal year DART has statements for, oldest first, scored as POST /predict "
                    "scores that year's statements",
                    "items": {
                        "type": "object",
                        "required": ["year", "prediction", "statements", "missing", "source", "warnings"],
                        "properties": {
                            "year": {"type": "integer"},
                            "prediction": {"type": "object", "description": "The row POST /predict answers"},
                            "statements": {"type": "object"},
                            "missing": {"type": "array", "items": _ref("Detail")},
                            "source": {"type": "object"},
                            "warnings": {"type": "array", "items": _ref("LookupWarning")},
                        },
                    },
                },
                "absent": {
                    "type": "array",
                    "description": "The years from 2015 without a scored answer, each with why",
                    "items": {
                        "type": "object",
                        "required": ["year", "code", "problem"],
                        "properties": {
                            "year": {"type": "integer"},
                            "code": {"type": "string"},
                            "problem": {"type": "string"},
                        },
                    },
                },
            },
        },
    }


def _lookup_paths(secured: list) -> dict[str, Any]:
    dart_errors = {
        "401": _error("API keys are configured and X-API-Key is missing or wrong"),
        "422": _error("A parameter is malformed; details name it"),
        "429": {
            **_error(
                "dart_busy: DART's daily request limit is used up; lookup_limit: this client or this server "
                "has made as many DART calls in the last hour as allowed (answers already kept are still given)"
            ),
            "headers": {
                "Retry-After": {"schema": {"type": "integer"}, "description": "Seconds until asking again may work"}
            },
        },
        "502": _error("DART answered something that cannot be read"),
        "503": _error(
            "The lookup is not configured (lookup_not_configured), DART refuses this server, or every DART "
            "slot of this server is taken (lookup_busy, with Retry-After)"
        ),
        "504": _error("DART did not answer in time"),
    }
    code = {
        "name": "code",
        "in": "path",
        "required": True,
        "description": "6-digit stock code or 8-digit DART corp_code",
        "schema": {"type": "string", "pattern": "^([0-9A-Z]{6}|[0-9]{8})$"},
        "example": "005930",
    }
    fs = {
        "name": "fs",
        "in": "query",
        "required": False,
        "description": "CFS (consolidated) or OFS (separate statements); without it, consolidated when the "
        "filing has them, else separate (said in warnings)",
        "schema": {"type": "string", "enum": ["CFS", "OFS"]},
    }
    year = {
        "name": "year",
        "in": "query",
        "required": False,
        "description": "Fiscal year; without it the latest finished one, or the year before when that one "
        "is not filed yet (reports are due by the end of March)",
        "schema": {"type": "integer", "minimum": FIRST_YEAR, "maximum": latest_finished_year() + 1},
        "example": 2023,
    }
    query = {
        "name": "q",
        "in": "query",
        "required": True,
        "description": "Company name or stock code",
        "schema": {"type": "string", "minLength": 1, "maxLength": MAX_QUERY_LENGTH, "pattern": "\\S"},
        "example": "삼성전자",
    }
    return {
        "/companies": {
            "get": {
                "operationId": "companies",
                "summary": "Listed companies whose name or stock code matches q",
                "parameters": [query],
                "security": secured,
                "responses": {"200": _json(_ref("Companies"), "Up to 20 companies, best match first"), **dart_errors},
            }
        },
        "/companies/{code}/statements": {
            "get": {
                "operationId": "statements",
                "summary": "The nine statement fields from the annual report on DART, the missing ones named",
                "parameters": [code, year, fs],
                "security": secured,
                "responses": {
                    "200": _json(_ref("Statements"), "The statements and the filing they come from"),
                    "404": _error(
                        "No listed company with that code (company_not_found), no structured annual statements "
                        "that year (no_filing), or none of the basis asked for (no_statements)"
                    ),
                    **dart_errors,
                    "422": _error(
                        "A parameter is malformed (details name it), or accounts_missing: the filing lacks "
                        "accounts and the served model takes no unknown inputs, or the accounts it gives "
                        "yield none of the model's inputs (details name the missing fields)"
                    ),
                    "503": _error(
                        "The lookup is not configured (lookup_not_configured), DART refuses this server, or "
                        "the filing lacks accounts and the model that judges whether it can be scored is "
                        "unavailable (model_unavailable)"
                    ),
                },
            }
        },
        "/companies/{code}/history": {
            "get": {
                "operationId": "history",
                "summary": "Every fiscal year from 2015 DART has statements for, each scored as POST /predict scores it",
                "parameters": [code, fs],
                "security": secured,
                "responses": {
                    "200": _json(_ref("History"), "The years scored, with each year's source, and the years absent"),
                    "404": _error("No listed company with that code"),
                    **dart_errors,
                    "503": _error(
                        "The lookup is not configured, DART refuses this server, every DART slot is taken "
                        "(lookup_busy), or the model is unavailable"
                    ),
                },
            }
        },
    }


class Served(Protocol):
    """What the document says of the model served (a soundness.predictor.Predictor)."""

    name: str
    version: str
    features: list[str]
    accepts_missing: bool


def document(settings: Settings, model: Served | None = None) -> dict[str, Any]:
    """The document for the model served (its name, version and features: the only model and the
    inputs this server takes); without one (it cannot be loaded), for the legacy service's five.
    Its paths are the routing table's (routes.table), each route documented by its operation."""
    from .routes import table  # routes -> handlers -> this module

    shape = (
        contract.shapes(tuple(model.features), model.accepts_missing, settings.max_batch)
        if model
        else contract.generic_shapes(settings.max_batch)
    )
    operations = _operations(settings, model)
    paths: dict[str, dict[str, Any]] = {}
    for route in table(settings):
        paths.setdefault(route.template, {})[route.method.lower()] = {
            "operationId": route.operation,
            **operations[route.operation],
        }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Financial soundness prediction",
            "version": "1",
            "description": "Tells whether a company is financially sound (건전) or "
            "unsound (비건전) from its financial statements.",
        },
        "paths": paths,
        "components": {
            "schemas": {**_schemas(shape), **_protocol_schemas(settings.max_batch)},
            "securitySchemes": {"apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"}},
        },
    }


def _operations(settings: Settings, model: Served | None) -> dict[str, dict[str, Any]]:
    """Each operation of the API by its operationId (the routing table names them)."""
    predict: dict[str, Any] = {
        "summary": "Predict soundness for 1 to MAX_BATCH companies",
        "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("PredictRequest")}}},
        "responses": {
            "200": _json(
                _ref("PredictResponse"), "Predictions in request order; invalid rows carry their errors in place"
            ),
            "400": _error("Malformed JSON, corrupt gzip, or a body that ended early"),
            "401": _error("API keys are configured and X-API-Key is missing or wrong"),
            "408": _error("The body did not arrive within CLIENT_TIMEOUT_SECONDS (the connection closes)"),
            "413": _error("Body larger than MAX_BODY_BYTES, before or after gunzipping"),
            "415": _error("Body not declared as application/json, in UTF-8, plain or gzip-compressed"),
            "422": _error("Valid JSON that no row of can be scored"),
            "503": _error("The model cannot be loaded"),
        },
    }
    if settings.api_keys:
        predict["security"] = [{"apiKey": []}]
    not_allowed = {"405": _error("Method not allowed on this route")}
    paths = {
        "/predict": {"post": {**predict, "operationId": "predict"}},
        "/health": {
            "get": {
                "operationId": "health",
                "summary": "Liveness; never loads the model",
                "responses": {"200": _json(_ref("Health"), "Alive"), **not_allowed},
            }
        },
        "/ready": {
            "get": {
                "operationId": "ready",
                "summary": "Loads the model if needed",
                "responses": {
                    "200": _json(_ref("Ready"), "Can predict"),
                    "503": _error("Cannot predict, with the reason"),
                },
            }
        },
        "/model": {
            "get": {
                "operationId": "model",
                "summary": "The model's public manifest",
                "responses": {
                    "200": _json(_ref("ModelInfo"), "Model facts"),
                    "503": _error("The model cannot be loaded"),
                },
            }
        },
        **_lookup_paths(predict.get("security", [])),
        **_protocol_paths(settings, model),
    }
    operations = {op.pop("operationId"): op for methods in paths.values() for op in methods.values()}
    alive = {  # KServe V1's liveness, to a client whose Accept does not name a web page
        "type": "object",
        "required": ["status"],
        "properties": {"status": {"const": kserve_v1.ALIVE["status"]}},
    }
    page = {
        "200": {
            "description": "The web page to a browser (Accept naming text/html); KServe V1's liveness to other clients",
            "content": {"text/html": {"schema": {"type": "string"}}, "application/json": {"schema": alive}},
        }
    }
    return {
        **operations,
        "page": {
            "summary": "The web page (Korean first, English)",
            "responses": {**page, "404": _error("No page bundled")},
        },
        "predict_at_root": {**predict, "summary": "As POST /predict (the legacy service's route)"},
        "openapi": {
            "summary": "This document, for the model loaded",
            "responses": {"200": _json({"type": "object"}, "The OpenAPI 3.1 document")},
        },
        "vertex_health": {
            **operations["ready"],
            "summary": "Vertex AI's health check (AIP_HEALTH_ROUTE): as GET /ready",
        },
        "vertex_predict": {
            **operations["v1_predict"],
            "parameters": [],
            "summary": "Vertex AI's predictions (AIP_PREDICT_ROUTE): KServe V1's request and answer",
        },
    }


# ---------------------------------------------------------------- the other protocols


def _message(name: str, description: str) -> dict[str, Any]:
    return _json(_ref(name), description)


def _protocol_schemas(max_batch: int) -> dict[str, Any]:
    parameters = {"type": "object", "description": "The protocol's parameters: names and values"}
    v1_rows = {
        "type": "array",
        "minItems": 1,
        "maxItems": max_batch,
        "items": {"oneOf": [_ref("Instance"), _ref("DataRow")]},
    }
    tensor: dict[str, Any] = {
        "type": "object",
        "required": ["name", "datatype", "shape"],
        "properties": {
            "name": {"type": "string"},
            "datatype": {"type": "string"},
            "shape": {"type": "array", "items": {"type": "integer"}},
        },
    }
    described = {
        **tensor,
        "properties": {
            **tensor["properties"],
            "parameters": {
                "type": "object",
                "properties": {"features": {"type": "array", "items": {"type": "string"}}},
                "description": "features: what the columns of an [N, F] tensor are, in order",
            },
        },
    }
    scored = {
        "type": "object",
        "required": ["label", "class", "class_ko", "probability_unsound"],
        "description": "As /predict answers a row, without index and id (explanation included unless "
        'userDefinedContext explain is "false")',
    }
    return {
        "BigQueryRequest": {
            "type": "object",
            "required": ["calls"],
            "properties": {
                "requestId": {},
                "caller": {},
                "sessionUser": {},
                "userDefinedContext": {
                    "type": ["object", "null"],
                    "additionalProperties": False,
                    "properties": {key: {"enum": list(values)} for key, values in bigquery.CONTEXT.items()},
                    "description": "The function's user_defined_context, values as strings: input "
                    'statements (default) or ratios; explain "true" (default) or "false" to leave out explanations',
                },
                "calls": {
                    "type": "array",
                    "maxItems": max_batch,
                    "items": {
                        "type": "array",
                        "description": "One row's arguments: the nine statement values in "
                        "their order, or with input ratios the model's features; numbers, numeric strings or null",
                    },
                },
            },
        },
        "BigQueryResponse": {
            "type": "object",
            "required": ["replies"],
            "properties": {
                "replies": {
                    "type": "array",
                    "items": {
                        "oneOf": [
                            scored,
                            {"type": "object", "required": ["error"], "properties": {"error": {"type": "object"}}},
                        ]
                    },
                }
            },
        },
        "BigQueryError": {
            "type": "object",
            "required": ["errorMessage"],
            "properties": {"errorMessage": {"type": "string", "maxLength": bigquery.MAX_ERROR_BYTES}},
        },
        "ProtocolError": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}},
        "V1Status": {
            "type": "object",
            "required": ["name", "ready"],
            "properties": {"name": {"type": "string"}, "ready": {"type": "boolean"}},
        },
        "V1Request": {
            "type": "object",
            "oneOf": [{"required": ["instances"]}, {"required": ["inputs"]}],
            "additionalProperties": False,
            "properties": {
                "instances": v1_rows,
                "inputs": {
                    "oneOf": [
                        v1_rows,
                        {
                            "type": "object",
                            "minProperties": 1,
                            "additionalProperties": {"type": "array", "minItems": 1, "maxItems": max_batch},
                            "description": "TensorFlow Serving's columnar form: each feature's values, one per row",
                        },
                    ]
                },
                "parameters": {
                    "type": ["object", "null"],
                    "properties": {"explain": EXPLAIN},
                    "description": "explain: false leaves the explanations out; other parameters are ignored",
                },
            },
        },
        "V1Models": {
            "type": "object",
            "required": ["models"],
            "properties": {"models": {"type": "array", "items": {"type": "string"}}},
        },
        "V1Explanations": {
            "type": "object",
            "required": ["explanations"],
            "properties": {
                "explanations": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["index", "id"],
                        "properties": {"explanation": {"type": "object"}, "error": {"type": "object"}},
                    },
                }
            },
        },
        "V1Response": {
            "type": "object",
            "required": ["predictions"],
            "properties": {
                "predictions": {"type": "array", "items": {"oneOf": [_ref("Prediction"), _ref("RowError")]}}
            },
        },
        "V2Server": {"type": "object", "required": ["name", "version", "extensions"]},
        "V2Live": {"type": "object", "required": ["live"], "properties": {"live": {"type": "boolean"}}},
        "V2Ready": {"type": "object", "required": ["ready"], "properties": {"ready": {"type": "boolean"}}},
        "V2ModelReady": {
            "type": "object",
            "required": ["name", "ready"],
            "properties": {"name": {"type": "string"}, "ready": {"type": "boolean"}},
        },
        "V2Metadata": {
            "type": "object",
            "required": ["name", "platform", "inputs", "outputs"],
            "properties": {
                "name": {"type": "string"},
                "versions": {"type": "array", "items": {"type": "string"}},
                "platform": {"type": "string"},
                "inputs": {"type": "array", "items": described},
                "outputs": {"type": "array", "items": described},
                "parameters": {
                    "type": "object",
                    "properties": {
                        "per_feature_inputs": {"type": "array", "items": tensor},
                        "unknown_mask": tensor,
                    },
                    "description": "The other input forms: one tensor per feature ([N] or [N, 1]), and for a "
                    "model that takes unknown inputs the BOOL mask of unknown values",
                },
            },
        },
        "V2InferRequest": {
            "type": "object",
            "required": ["inputs"],
            "properties": {
                "id": {"type": "string"},
                "parameters": parameters,
                "inputs": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        **tensor,
                        "required": ["name", "datatype", "shape", "data"],
                        "properties": {
                            **tensor["properties"],
                            "datatype": {"enum": [*open_inference.DATATYPES, "BOOL"]},
                            "shape": {"type": "array", "minItems": 1, "items": {"type": "integer", "minimum": 0}},
                            "parameters": parameters,
                            "data": {
                                "type": "array",
                                "description": "Row-major values, flat or nested as the shape; null for an "
                                "unknown value (a model that takes unknown inputs)",
                            },
                        },
                    },
                    "description": f"One {open_inference.MATRIX!r} tensor [N, F] in feature order, or one [N] or "
                    "[N, 1] tensor per feature named after it (GET /model lists the features); FP32 or FP64. "
                    f"Optionally {open_inference.UNKNOWN!r}, BOOL [N, F]: true where a value is unknown",
                },
                "outputs": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "required": ["name"],
                        "properties": {"name": {"enum": list(open_inference.OUTPUTS)}, "parameters": parameters},
                    },
                    "description": "The outputs wanted, all the model gives by default; "
                    + ", ".join(open_inference.EXPLANATION)
                    + " (the explanation in log-odds) only from a model that explains (GET /v2/models/{name} lists "
                    "them), and computed only when wanted",
                },
            },
        },
        "V2InferResponse": {
            "type": "object",
            "required": ["model_name", "outputs"],
            "properties": {
                "model_name": {"type": "string"},
                "model_version": {"type": "string"},
                "id": {"type": "string"},
                "outputs": {"type": "array", "items": {**tensor, "required": ["name", "datatype", "shape", "data"]}},
            },
        },
    }


def _protocol_paths(settings: Settings, model: Served | None) -> dict[str, Any]:
    def parameter(name: str, served: str | None) -> dict[str, Any]:
        schema = {"type": "string", **({"enum": [served]} if served else {})}
        return {
            "name": name,
            "in": "path",
            "required": True,
            "schema": schema,
            "description": "The served model's " + name + " (GET /model says it); any other is 404",
        }

    name = parameter("name", model.name if model else None)
    version = parameter("version", model.version if model else None)
    keyed: dict[str, Any] = {"security": [{"apiKey": []}]} if settings.api_keys else {}
    common = {
        "405": _message("ProtocolError", "Method not allowed on this route"),
        "500": _message("ProtocolError", "A bug of ours"),
        "503": _message("ProtocolError", "The model cannot be loaded"),
    }
    not_found = _message("ProtocolError", "Not the served model, or no such route")
    refusals = {
        "400": _message("ProtocolError", "A request this model cannot use, saying why"),
        "401": _message("ProtocolError", "API keys are configured and X-API-Key is missing or wrong"),
        "413": _message("ProtocolError", "Body larger than MAX_BODY_BYTES"),
        "415": _message("ProtocolError", "Body declared as something other than JSON"),
    }

    def get(operation: str, schema: str, summary: str, *parameters) -> dict[str, Any]:
        return {
            "get": {
                "operationId": operation,
                "summary": summary,
                "parameters": list(parameters),
                "responses": {"200": _message(schema, summary), "404": not_found, **common},
            }
        }

    def post(operation: str, request: str, response: str, summary: str, *parameters) -> dict[str, Any]:
        return {
            "post": {
                "operationId": operation,
                "summary": summary,
                "parameters": list(parameters),
                **keyed,
                "requestBody": {"required": True, "content": {"application/json": {"schema": _ref(request)}}},
                "responses": {"200": _message(response, summary), "404": not_found, **refusals, **common},
            }
        }

    paths = {
        "/v1/models": get("v1_models", "V1Models", "KServe V1: the models served"),
        "/v1/models/{name}": get("v1_model", "V1Status", "KServe V1: is the model ready", name),
        "/v1/models/{name}:explain": post(
            "v1_explain",
            "V1Request",
            "V1Explanations",
            "KServe V1 explain: each instance's explanation as /predict gives it",
            name,
        ),
        "/v1/models/{name}:predict": post(
            "v1_predict",
            "V1Request",
            "V1Response",
            "KServe V1 / Vertex AI predict: instances by name or in feature order",
            name,
        ),
        "/v2": get("v2_server", "V2Server", "Open Inference Protocol: server metadata"),
        "/v2/health/live": get("v2_live", "V2Live", "Open Inference Protocol: alive; never loads the model"),
        "/v2/health/ready": get("v2_ready", "V2Ready", "Open Inference Protocol: the model is loaded"),
        "/v2/models/{name}": get("v2_metadata", "V2Metadata", "Open Inference Protocol: model metadata", name),
        "/v2/models/{name}/versions/{version}": get(
            "v2_version_metadata", "V2Metadata", "Open Inference Protocol: model metadata", name, version
        ),
        "/v2/models/{name}/ready": get("v2_model_ready", "V2ModelReady", "Open Inference Protocol: model ready", name),
        "/v2/models/{name}/versions/{version}/ready": get(
            "v2_version_ready", "V2ModelReady", "Open Inference Protocol: model ready", name, version
        ),
        "/v2/models/{name}/infer": post(
            "v2_infer", "V2InferRequest", "V2InferResponse", "Open Inference Protocol: inference", name
        ),
        "/v2/models/{name}/versions/{version}/infer": post(
            "v2_version_infer", "V2InferRequest", "V2InferResponse", "Open Inference Protocol: inference", name, version
        ),
    }
    if settings.bigquery_route:
        error = _message("BigQueryError", "errorMessage, under 1 KB")
        paths["/bigquery"] = {
            "post": {
                "operationId": "bigquery",
                **keyed,
                "summary": "BigQuery remote function: one reply per call, in order (BIGQUERY_ROUTE=on)",
                "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("BigQueryRequest")}}},
                "responses": {
                    "200": _message("BigQueryResponse", "One reply per call; a row's error as its reply"),
                    "400": error,
                    "401": error,
                    "413": error,
                    "415": error,
                    "500": error,
                    "503": error,
                    "405": error,
                },
            }
        }
    return paths
