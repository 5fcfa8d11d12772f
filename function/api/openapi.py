"""The OpenAPI 3 document of the service, built from the same lists the code uses."""
from __future__ import annotations

from typing import Any

from soundness import ratios
from .config import Settings
from .payloads import MAX_ID_LENGTH, MAX_MAGNITUDE

NUMBER = {"type": "number", "minimum": -MAX_MAGNITUDE, "maximum": MAX_MAGNITUDE}
ID = {"oneOf": [{"type": "string", "maxLength": MAX_ID_LENGTH}, {"type": "integer"}],
      "description": "Optional; echoed back in the prediction."}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return _json(_ref("Error"), description)


def _schemas(max_batch: int) -> dict[str, Any]:
    statement = {name: {**NUMBER, "description": f"{label['en']} ({label['ko']})"}
                 for name, label in ratios.STATEMENT_FIELDS.items()}
    ratio_values = {r.name: {"type": ["number", "null"], "description": f"{r.en} ({r.ko})"}
                    for r in ratios.RATIOS}
    batch = {"minItems": 1, "maxItems": max_batch}
    detail = {"type": "object", "required": ["field", "problem"], "properties": {
        "index": {"type": "integer"}, "field": {"type": ["string", "null"]},
        "problem": {"type": "string"}}}
    error_body = {"type": "object", "required": ["code", "message", "details"], "properties": {
        "code": {"type": "string"}, "message": {"type": "string"},
        "details": {"type": "array", "items": detail}}}
    return {
        "Company": {"type": "object", "required": list(statement), "additionalProperties": False,
                    "properties": {"id": ID, **statement}},
        "Instance": {"type": "object", "properties": {"id": ID},
                     "additionalProperties": NUMBER,
                     "description": "The model's features by name (GET /model lists them)."},
        "PredictRequest": {"oneOf": [
            {"type": "object", "required": ["companies"], "additionalProperties": False,
             "properties": {"companies": {"type": "array", "items": _ref("Company"), **batch}}},
            {"type": "object", "required": ["instances"], "additionalProperties": False,
             "properties": {"instances": {"type": "array", "items": _ref("Instance"), **batch}}},
            {"type": "object", "required": ["data"], "additionalProperties": False,
             "properties": {"data": {"type": "array", **batch, "items": {
                 "type": "array", "items": NUMBER,
                 "description": "The model's features in its order (the seed's five for seed models)."}}}},
        ]},
        "Prediction": {"type": "object", "required": [
            "index", "id", "label", "class", "class_ko", "probability_unsound", "ratios", "warnings"],
            "properties": {
                "index": {"type": "integer"}, "id": {"type": ["string", "integer", "null"]},
                "label": {"type": "integer", "enum": [0, 1]},
                "class": {"type": "string", "enum": ["sound", "unsound"]},
                "class_ko": {"type": "string", "enum": ["건전", "비건전"]},
                "probability_unsound": {"type": "number", "minimum": 0, "maximum": 1},
                "ratios": {"type": "object", "properties": ratio_values,
                           "additionalProperties": {"type": ["number", "null"]}},
                "warnings": {"type": "array", "items": {"type": "object"}}}},
        "RowError": {"type": "object", "required": ["index", "error"], "properties": {
            "index": {"type": "integer"}, "id": {"type": ["string", "integer", "null"]},
            "error": error_body}},
        "PredictResponse": {"type": "object", "required": ["model", "predictions"], "properties": {
            "model": {"type": "object", "required": ["name", "version"], "properties": {
                "name": {"type": "string"}, "version": {"type": "string"}}},
            "predictions": {"type": "array",
                            "items": {"oneOf": [_ref("Prediction"), _ref("RowError")]}}}},
        "Error": {"type": "object", "required": ["error"], "properties": {"error": error_body}},
        "Health": {"type": "object", "required": ["status", "model_loaded"], "properties": {
            "status": {"type": "string", "enum": ["ok"]}, "model_loaded": {"type": "boolean"}}},
        "Ready": {"type": "object", "required": ["status", "model"], "properties": {
            "status": {"type": "string", "enum": ["ready"]}, "model": {"type": "object"}}},
        "ModelInfo": {"type": "object", "required": [
            "model", "features", "classes", "decision", "metrics", "training_data", "feature_quantiles"],
            "properties": {"features": {"type": "array", "items": {"type": "string"}},
                           "classes": {"type": "array", "items": {"type": "object"}}}},
    }


def document(settings: Settings) -> dict[str, Any]:
    predict = {
        "summary": "Predict soundness for 1 to MAX_BATCH companies",
        "requestBody": {"required": True, "content": {
            "application/json": {"schema": _ref("PredictRequest")}}},
        "responses": {
            "200": _json(_ref("PredictResponse"),
                         "Predictions in request order; invalid rows carry their errors in place"),
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
    return {
        "openapi": "3.1.0",
        "info": {"title": "Financial soundness prediction", "version": "1",
                 "description": "Tells whether a company is financially sound (건전) or "
                                "unsound (비건전) from its financial statements."},
        "paths": {
            "/predict": {"post": {**predict, "operationId": "predict"}},
            "/health": {"get": {"operationId": "health", "summary": "Liveness; never loads the model",
                                "responses": {"200": _json(_ref("Health"), "Alive"), **not_allowed}}},
            "/ready": {"get": {"operationId": "ready", "summary": "Loads the model if needed",
                               "responses": {"200": _json(_ref("Ready"), "Can predict"),
                                             "503": _error("Cannot predict, with the reason")}}},
            "/model": {"get": {"operationId": "model", "summary": "The model's public manifest",
                               "responses": {"200": _json(_ref("ModelInfo"), "Model facts"),
                                             "503": _error("The model cannot be loaded")}}},
        },
        "components": {
            "schemas": _schemas(settings.max_batch),
            "securitySchemes": {"apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"}},
        },
    }
