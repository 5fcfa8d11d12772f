"""BigQuery remote functions: BigQuery's batch of calls in, one reply per call out.

BigQuery sends `{"requestId", "caller", "sessionUser", "userDefinedContext", "calls": [[arg, ...]]}`
and wants `{"replies": [...]}`, exactly one reply per call, in order. A row that cannot be scored
gets `{"error": {...}}` as its reply, so one bad row does not fail the query; a request that is
wrong as a whole gets `{"errorMessage"}` (400, not retried; 503 when the model is unavailable,
which BigQuery retries). Framework-free: a parsed body in, a body out, a Refusal (errors.py) for the rest.

A scored reply is /predict's answer for the row without index and id, explanation included (for a
model that explains). `userDefinedContext` is the function's `user_defined_context` OPTION, which
BigQuery sends as an object of strings: `input` says what the calls carry (`statements`, the
default, or `ratios`), and `explain` `"false"` leaves the explanations out (`"true"`, the default).
"""

from __future__ import annotations

import json
import re
from typing import Any

from soundness import ratios

from . import errors
from .answers import predictions
from .errors import Invalid, Refusal, detail, echo, summary
from .payloads import parse_json, parse_rows

# BigQuery's JSON encoding of a number argument: NUMERIC, BIGNUMERIC and INT64 beyond 2^53 arrive
# as strings of digits, FLOAT64's NaN and infinities as "NaN", "Infinity" and "-Infinity".
ENCODED_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?|NaN|-?Infinity")
INPUTS = ("statements", "ratios")  # userDefinedContext {"input": ...}; statements by default
EXPLAIN = ("true", "false")  # userDefinedContext {"explain": ...}; explanations by default
# Each key of userDefinedContext and its values, the default first. BigQuery sends the function's
# user_defined_context OPTION as an object of strings, so "false" is a string here, never a boolean.
CONTEXT = {"input": INPUTS, "explain": EXPLAIN}
MAX_CALL_ECHO = 300  # a call's arguments as an error repeats them, each cut to MAX_ECHO
MAX_ERROR_BYTES = 900  # BigQuery shows errorMessage to the analyst; the whole body stays under 1 KB


# A request BigQuery cannot use is 400 (not retried), not /predict's 422.
STATUSES = {**errors.STATUSES, Invalid: 400}


def error_body(error: Refusal) -> dict[str, str]:
    return {"errorMessage": summary(error, MAX_ERROR_BYTES)}


ERRORS = (error_body, STATUSES)  # every answer of /bigquery that is not a 200, 500 included


def replies(predictor, body: Any, max_batch: int) -> tuple[dict[str, Any], int]:
    """BigQuery's answer to its request body, and how many calls it carried."""
    if not isinstance(body, dict) or not isinstance(body.get("calls"), list):
        raise Invalid(
            "invalid_request",
            "expected BigQuery's request: an object with calls",
            [detail("calls", "must be an array of calls, each an array of arguments")],
        )
    # The other envelope fields (requestId, caller, sessionUser) are BigQuery's; they are not read.
    context = _context(body.get("userDefinedContext"))
    if not body["calls"]:
        return {"replies": []}, 0  # one reply per call, of none
    calls, form, names = _calls(body["calls"], context["input"], predictor.features)
    arguments = [[_decoded(value) for value in call] for call in calls]
    rows_body = (
        {"companies": [dict(zip(names, args)) for args in arguments]} if form == "companies" else {"data": arguments}
    )
    rows = parse_rows(rows_body, predictor.features, max_batch, predictor.accepts_missing)
    answers = predictions(predictor, rows, explain=context["explain"] == "true")
    return {"replies": [_reply(answer, dict(zip(names, call))) for answer, call in zip(answers, calls)]}, len(rows)


def _context(context: Any) -> dict[str, str]:
    """userDefinedContext with its defaults filled in, or a 400 naming the key that is wrong."""
    context = {} if context is None else context
    if not isinstance(context, dict) or set(context) - set(CONTEXT):
        raise Invalid(
            "invalid_request",
            "userDefinedContext may only say which input the calls carry and whether to explain",
            [detail("userDefinedContext", "expected an object with at most the keys " + ", ".join(CONTEXT))],
        )
    filled = {key: context.get(key, values[0]) for key, values in CONTEXT.items()}
    for key, values in CONTEXT.items():
        if not isinstance(filled[key], str) or filled[key] not in values:
            raise Invalid(
                "invalid_request",
                f"userDefinedContext {key} must be one of the strings " + ", ".join(f'"{v}"' for v in values),
                [detail(f"userDefinedContext.{key}", f"got {echo(json.dumps(filled[key]))}")],
            )
    return filled


def _calls(calls: list, input_: str, features: list[str]) -> tuple[list, str, list[str]]:
    """The calls, the input form they fill and the argument names, or a 400 saying what is wrong."""
    if input_ == "ratios":
        form, names = "data", list(features)
    else:
        form, names = "companies", list(ratios.STATEMENT_FIELDS)
    wrong = [i for i, call in enumerate(calls) if not isinstance(call, list) or len(call) != len(names)]
    if wrong:
        raise Invalid(
            "invalid_request",
            f"each call must carry {len(names)} arguments: {', '.join(names)}",
            [detail("calls", f"the call {_said(calls[i])} has the wrong number of arguments", i) for i in wrong],
        )
    return calls, form, names


def _decoded(value: Any) -> Any:
    """An argument as /predict would have received it: numbers BigQuery sent as strings decoded by the
    same strict JSON reader (so "NaN" is refused as NaN is), anything else left for validation to name."""
    if isinstance(value, str) and ENCODED_NUMBER.fullmatch(value):
        return parse_json(value.encode(), "application/json")
    return value


def _reply(answer: dict[str, Any], arguments: dict[str, Any]) -> dict[str, Any]:
    """A call's reply: its answer, or its error with the arguments it was called with: the index is
    the call's place in a batch BigQuery chose, which the analyst never sees."""
    if "error" in answer:
        return {"error": {**answer["error"], "arguments": {name: _echoed(v) for name, v in arguments.items()}}}
    return {key: value for key, value in answer.items() if key not in ("index", "id")}


def _echoed(value: Any) -> Any:
    """An argument as an error repeats it: a number or null as sent, text cut to MAX_ECHO."""
    if isinstance(value, str):
        return echo(value)
    if value is None or isinstance(value, (int, float)):
        return value
    return "<an object>" if isinstance(value, dict) else "<an array>"


def _said(call: Any) -> str:
    """A call as a whole-request error says it, so the analyst can find its row: its arguments."""
    text = json.dumps([_echoed(v) for v in call] if isinstance(call, list) else _echoed(call), ensure_ascii=False)
    return text if len(text) <= MAX_CALL_ECHO else text[:MAX_CALL_ECHO] + "…"
