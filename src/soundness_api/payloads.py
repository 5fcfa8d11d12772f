"""Request bodies: strict JSON parsing and validation of the three input forms.

Turns bytes into rows the model can score, or into errors that name the row and the
field. Nothing here guesses: a value that is not a finite number or a field that is not
known is reported, never repaired. A model that takes unknown inputs (its preprocessing
has missing indicators) gets a ratio that cannot be computed, or a value not given
(absent or null), as unknown (NaN), with a warning naming it; only a row with none of the
model's inputs known is refused. Any other model needs every input, as before.
"""

from __future__ import annotations

import itertools
import json
import operator
import re
from dataclasses import dataclass, field
from typing import Any

from soundness import flags, jsontext, ratios

from .errors import MAX_DETAILS, Invalid, Malformed, Refusal, UnsupportedMedia, detail, echo

FORMS = ("companies", "instances", "data")
# `"explain": false` next to the rows skips the per-row explanation (a large batch answers sooner).
EXPLAIN = "explain"
UNKNOWN_WARNING = "unknown_inputs"
MAX_ID_LENGTH = 200
MAX_MAGNITUDE = 1e300  # leaves room for the ratios' arithmetic before floats overflow
# JavaScript reads JSON numbers as doubles: a larger integer id would come back as another one.
MAX_SAFE_INTEGER = 2**53 - 1
NAN = float("nan")
# Characters that are invisible or reorder the text around them (U+202E shows "exe.txt" as
# "txt.exe"): an id carrying one could pass for another company's name in a table.
HIDDEN_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")
# From this many companies on, the plain ones' ratios are computed as arrays (soundness.ratios.
# compute_columns): about 4 us a company against 15 one by one; below it the arrays' fixed cost
# is more than the saving.
ARRAY_ROWS = 16


@dataclass
class Row:
    index: int
    id: Any
    features: list[float]  # NaN where unknown
    ratios: dict[str, float | None]
    warnings: list[dict[str, Any]] = field(default_factory=list)
    # The companies form only: the nine statement values in STATEMENT_FIELDS' order (NaN: not
    # given) and what the company says of itself (soundness.flags reads them).
    statement: tuple[float, ...] | None = None
    currency: str | None = None
    market: str | None = None


@dataclass
class RowError:
    index: int
    id: Any
    details: list[dict[str, Any]]


# ---------------------------------------------------------------- JSON


class _NotANumber(float):
    """NaN or Infinity as written in the body: kept so validation can name its field."""


def _constant(name: str) -> float:
    return _NotANumber("nan")


def _integer(text: str) -> int | float:
    # Digits beyond 1e300 are refused anyway: inf says so, without int()'s 4300-digit limit.
    return int(text) if len(text) <= 302 else float("inf")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) == len(pairs):
        return result
    seen: set[str] = set()
    key = next(key for key, _ in pairs if key in seen or seen.add(key))
    raise Malformed(
        "malformed_json",
        f"duplicate key {echo(key)!r} in a JSON object",
        [detail(key, "appears more than once in the same object")],
    )


# The deepest request any route takes is 5 (a V2 tensor's rows: the body, inputs, a tensor, its
# data, a row; a company is 3: the body, companies, the company); twice that leaves room. Deeper
# is refused before parsing: 1000 rows nested 400 deep cost the worker 0.3 s of CPU.
MAX_NESTING = 10
# Made once: json.loads with options builds a new decoder on every call.
_DECODER = json.JSONDecoder(parse_constant=_constant, parse_int=_integer, object_pairs_hook=_unique_keys)


def parse_json(raw: bytes, content_type: str | None) -> Any:
    """Body bytes to a JSON value: 415 if not declared JSON, 400 if not valid JSON."""
    mimetype = (content_type or "").split(";", 1)[0].strip().lower()
    if mimetype != "application/json" and not mimetype.endswith("+json"):
        raise UnsupportedMedia(
            "unsupported_media_type",
            "send the body as JSON with Content-Type: application/json",
            [detail("Content-Type", f"got {mimetype or 'none'}")],
        )
    if not raw.strip():
        raise Malformed("malformed_json", "the request body is empty", [detail(None, "expected a JSON object")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Malformed("malformed_json", "the request body is not UTF-8 text") from None
    try:
        return jsontext.loads(text, _DECODER, MAX_NESTING)
    except Refusal:
        raise
    except jsontext.TooDeep:
        raise Malformed(
            "malformed_json",
            "the JSON is nested too deeply",
            [detail(None, f"arrays and objects may nest at most {MAX_NESTING} deep")],
        ) from None
    except ValueError as exc:
        where = f" at line {exc.lineno} column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else ""
        raise Malformed("malformed_json", f"the request body is not valid JSON{where}") from None


# ---------------------------------------------------------------- values


def number_problem(value: Any) -> str | None:
    """Why `value` is not a usable number, or None when it is one."""
    if isinstance(value, _NotANumber):
        return "NaN and Infinity are not accepted; send a finite number"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"must be a number, got {_json_type(value)}"
    if not abs(value) <= MAX_MAGNITUDE:  # NaN and 1e400 (inf) fail; a huge int is never made a float
        return f"must be a finite number no larger than {MAX_MAGNITUDE:g} in magnitude"
    return None


def _json_type(value: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), type(value).__name__
    )


def _id_problem(value: Any) -> str | None:
    # Refused, not cleaned: the id is the client's key to its own rows and comes back as sent.
    if isinstance(value, str) and len(value) <= MAX_ID_LENGTH:
        if hidden := HIDDEN_CHARACTERS.search(value):
            return (
                f"must not contain control or bidirectional formatting characters "
                f"(U+{ord(hidden.group()):04X} at position {hidden.start()})"
            )
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        if abs(value) > MAX_SAFE_INTEGER:
            return (
                f"must be an integer within ±{MAX_SAFE_INTEGER} (2^53 - 1), which JavaScript "
                "reads exactly; send a larger id as a string"
            )
        return None
    return f"must be a string of at most {MAX_ID_LENGTH} characters or an integer"


def _read_numbers(
    obj: dict[str, Any], names: list[str], index: int, optional: bool = False
) -> tuple[dict[str, float], list]:
    """The named numbers of `obj`; with `optional`, one absent or null is left out, not an error."""
    values, problems = {}, []
    for name in names:
        if optional and obj.get(name) is None:
            continue
        if name not in obj:
            problems.append(detail(name, "is required", index))
            continue
        problem = number_problem(obj[name])
        if problem:
            problems.append(detail(name, problem, index))
        else:
            values[name] = float(obj[name])
    return values, problems


def _check_known_fields(rows: list, form: str, allowed: list[str]) -> None:
    """Refuse the request if any row has a field no row may have: each such key is named
    once, with the first row that has it and how many do (not once per row)."""
    allowed_keys = set(allowed) | {"id"}
    if set(map(type, rows)) == {dict} and set().union(*rows) <= allowed_keys:  # the usual batch, in C
        return
    found: dict[str, list[int]] = {}  # key -> [first index, rows having it]
    for index, obj in enumerate(rows):
        for key in obj if isinstance(obj, dict) else ():
            if key not in allowed_keys:
                found.setdefault(key, [index, 0])[1] += 1
    if found:
        named = list(found.items())[:MAX_DETAILS]
        raise Invalid(
            "unknown_field",
            f"{len(found)} unknown field name(s) in {form}; expected: " + ", ".join(allowed),
            [
                detail(key, f"is not a known field (in {count} row{'s' * (count > 1)})", first)
                for key, (first, count) in named
            ],
            omitted=len(found) - len(named),
        )


def _broken_fields(result: ratios.RatioResult, features: list[str]) -> dict[tuple[str, str], list[str]]:
    """(field, its problem) -> the features it leaves undefined."""
    broken: dict[tuple[str, str], list[str]] = {}
    for name in features:
        if name in result.problems:
            broken.setdefault(result.problems[name], []).append(name)
    return broken


def _ratio_problems(result: ratios.RatioResult, features: list[str], index: int) -> list:
    """One detail per field that breaks a feature, naming every feature it breaks."""
    return [
        detail(field, ratios.problem_text(problem, names), index)
        for (field, problem), names in _broken_fields(result, features).items()
    ]


# ---------------------------------------------------------------- the three forms


def _scoreable(
    index: int,
    id_: Any,
    values: dict[str, float | None],
    features: list[str],
    missing: bool,
    shown: dict[str, float | None],
    refusal: list | None = None,
    why: str | None = None,
    warnings: list[dict[str, Any]] | None = None,
) -> Row | RowError:
    """A row from the model's inputs (None: unknown). Refused when the model cannot take what is
    unknown or nothing is known, with the `refusal` details (by default: none of the inputs is
    given); else the unknowns are warned of, `why` (by default: they were not given)."""
    row = [values.get(name) for name in features]
    warnings = list(warnings or ())
    unknown = [name for name, value in zip(features, row) if value is None]
    if unknown:
        if not missing or len(unknown) == len(features):
            return RowError(index, id_, refusal or _nothing_known(features, index))
        row = [NAN if value is None else value for value in row]
        warnings.append(
            {
                "code": UNKNOWN_WARNING,
                "fields": unknown,
                "message": (
                    f"{len(unknown)} of the model's {len(features)} inputs unknown, scored as unknown: "
                    f"{why or ', '.join(unknown) + ' not given'}"
                ),
            }
        )
    return Row(index, id_, row, shown, warnings)


def _nothing_known(features: list[str], index: int) -> list:
    return [detail(None, "gives none of the model's inputs: " + ", ".join(features), index)]


def _company(obj: Any, index: int, features: list[str], missing: bool) -> Row | RowError:
    fields = list(ratios.STATEMENT_FIELDS)
    if not isinstance(obj, dict):
        return RowError(index, None, [detail(None, f"must be an object, got {_json_type(obj)}", index)])
    if _plain_statement(obj):  # the usual company, checked in one pass
        values = {name: float(obj[name]) for name in fields}
    else:
        values, problems = _read_numbers(obj, fields, index, optional=missing)
        if problems:
            return RowError(index, obj.get("id"), problems)
    result = ratios.compute(values)
    why = "; ".join(
        f"{field} {ratios.problem_text(problem, names)}"
        for (field, problem), names in _broken_fields(result, features).items()
    )
    row = _scoreable(
        index,
        obj.get("id"),
        result.values,
        features,
        missing,
        result.values,
        _ratio_problems(result, features, index),
        why,
        result.warnings,
    )
    if isinstance(row, Row):
        row.statement = tuple(values.get(name, NAN) for name in fields)
    return row


def _instance(obj: Any, index: int, features: list[str], missing: bool) -> Row | RowError:
    if not isinstance(obj, dict):
        return RowError(index, None, [detail(None, f"must be an object, got {_json_type(obj)}", index)])
    values, problems = _read_numbers(obj, features, index, optional=missing)
    if problems:
        return RowError(index, obj.get("id"), problems)
    return _scoreable(index, obj.get("id"), values, features, missing, dict(values))


def _data(obj: Any, index: int, features: list[str], missing: bool) -> Row | RowError:
    # The model's inputs in its order; or, for a model that takes unknowns, the legacy five alone.
    five = list(ratios.LEGACY_FEATURES)
    order = (
        five if missing and isinstance(obj, list) and len(obj) == len(five) and set(five) <= set(features) else features
    )
    if not isinstance(obj, list) or len(obj) != len(order):
        alternative = f" (or the legacy five: {', '.join(five)})" if missing else ""
        return RowError(
            index,
            None,
            [
                detail(
                    None,
                    (f"must be an array of {len(features)} numbers in this order: {', '.join(features)}{alternative}"),
                    index,
                )
            ],
        )
    given = {name: value for name, value in zip(order, obj) if not (missing and value is None)}
    problems = [detail(name, p, index) for name, value in given.items() if (p := number_problem(value))]
    if problems:
        return RowError(index, None, problems)
    values = {name: float(value) for name, value in given.items()}
    return _scoreable(index, None, values, features, missing, dict(values))


def _plain_statement(obj: Any) -> bool:
    """All nine fields are numbers a company can be scored by (as `_read_numbers` accepts them)."""
    if not isinstance(obj, dict):
        return False
    for name in ratios.STATEMENT_FIELDS:
        value = obj.get(name)
        if (type(value) is not float and type(value) is not int) or not -MAX_MAGNITUDE <= value <= MAX_MAGNITUDE:
            return False
    return True


_STATEMENT = operator.itemgetter(*ratios.STATEMENT_FIELDS)


def _plain_statements(objs: list) -> tuple[list[int], list[tuple]]:
    """Which objects are plain statements (`_plain_statement`), and their nine values each. A
    batch of nothing else, the usual one, is checked by type and size in a few passes over all
    its values, not company by company."""
    try:
        if set(map(type, objs)) == {dict}:
            values = list(map(_STATEMENT, objs))
            numbers = list(itertools.chain.from_iterable(values))
            if (
                set(map(type, numbers)) <= {float, int}
                and -MAX_MAGNITUDE <= min(numbers) <= max(numbers) <= MAX_MAGNITUDE
            ):
                return list(range(len(objs))), values
    except KeyError:  # a field left out: company by company
        pass
    plain = [i for i, obj in enumerate(objs) if _plain_statement(obj)]
    return plain, [_STATEMENT(objs[i]) for i in plain]


def _companies(objs: list, features: list[str], missing: bool) -> list[Row | RowError]:
    """`_company` of every object, the same rows: the plain statements whose every ratio is
    defined are computed as arrays, the others one by one, where their problems are named."""
    import numpy as np  # only once predictions are asked for, never in the server's master

    rows: list[Row | RowError | None] = [None] * len(objs)
    plain, statements = _plain_statements(objs) if len(objs) >= ARRAY_ROWS else ([], [])
    if plain:
        fields = list(ratios.STATEMENT_FIELDS)
        values = np.array(statements, dtype=float)
        columns = dict(zip(fields, values.T))
        table = ratios.compute_columns(columns)
        names, shown = list(table), np.column_stack(list(table.values()))
        defined = np.isfinite(shown).all(axis=1)
        unbalanced = ratios.maybe_unbalanced(columns)
        inputs = operator.itemgetter(*[names.index(name) for name in features])
        sheet = operator.itemgetter(*[fields.index(name) for name in ratios.BALANCE_FIELDS])
        for i, statement, given, row, ok, check in zip(
            plain, statements, values.tolist(), shown.tolist(), defined.tolist(), unbalanced.tolist()
        ):
            if ok:
                warnings = ratios.balance_warning(*sheet(statement)) if check else []
                rows[i] = Row(i, objs[i].get("id"), list(inputs(row)), dict(zip(names, row)), warnings, tuple(given))
    read = [row or _company(obj, i, features, missing) for i, (obj, row) in enumerate(zip(objs, rows))]
    if any(flags.CURRENCY in obj or flags.MARKET in obj for obj in objs if isinstance(obj, dict)):
        read = [_with_listing(row, obj) for row, obj in zip(read, objs)]
    return read


def _listing_problems(obj: dict[str, Any], index: int) -> list:
    problems = []
    currency, market = obj.get(flags.CURRENCY), obj.get(flags.MARKET)
    if currency is not None and not (isinstance(currency, str) and re.fullmatch("[A-Z]{3}", currency)):
        problems.append(detail(flags.CURRENCY, "must be an ISO 4217 code of three capital letters, such as KRW", index))
    if market is not None and market not in flags.MARKETS:
        problems.append(detail(flags.MARKET, "must be one of " + ", ".join(flags.MARKETS), index))
    return problems


def _with_listing(row: Row | RowError, obj: Any) -> Row | RowError:
    """A company's currency and market (optional; null is not given) on its row, or their problems."""
    if not isinstance(obj, dict):
        return row
    problems = _listing_problems(obj, row.index)
    if problems:
        return RowError(row.index, row.id, problems + (row.details if isinstance(row, RowError) else []))
    if isinstance(row, Row):
        row.currency, row.market = obj.get(flags.CURRENCY), obj.get(flags.MARKET)
    return row


_READERS = {"instances": _instance, "data": _data}  # companies: _companies


def _ids_fine(objs: list) -> bool:
    """Every id given is a string `_id_problem` accepts: the usual batch, checked in a few passes
    over all its ids, not row by row (a hidden character is one character, so searching the ids
    joined finds what searching each would)."""
    if set(map(type, objs)) != {dict}:
        return False
    ids = [obj["id"] for obj in objs if "id" in obj]
    return (
        set(map(type, ids)) <= {str}
        and max(map(len, ids), default=0) <= MAX_ID_LENGTH
        and not HIDDEN_CHARACTERS.search("".join(ids))
    )


def _check_id(row: Row | RowError, obj: Any) -> Row | RowError:
    if isinstance(obj, dict) and "id" in obj and (problem := _id_problem(obj["id"])):
        details = [detail("id", problem, row.index)]
        return RowError(row.index, None, details + (row.details if isinstance(row, RowError) else []))
    return row


def explain_requested(body: dict[str, Any]) -> bool:
    """Whether the (already parsed) request wants explanations: yes unless it says false."""
    return body.get(EXPLAIN, True)


def parse_rows(body: Any, features: list[str], max_batch: int, missing: bool = False) -> list[Row | RowError]:
    """The body's rows, each either scoreable or with its errors.

    `missing`: the model takes unknown inputs (see the module's docstring)."""
    if not isinstance(body, dict):
        raise Invalid(
            "invalid_request",
            "the body must be a JSON object with one of: " + ", ".join(FORMS),
            [detail(None, f"got {_json_type(body)}")],
        )
    present = [form for form in FORMS if form in body]
    extra = [key for key in body if key not in FORMS and key != EXPLAIN]
    if len(present) != 1 or extra:
        problems = [detail(key, "is not a known input form") for key in extra]
        if len(present) != 1:
            problems.append(detail(None, "give exactly one of: " + ", ".join(FORMS)))
        raise Invalid("unknown_input_form", "the body must have exactly one of: " + ", ".join(FORMS), problems)
    if not isinstance(body.get(EXPLAIN, True), bool):
        raise Invalid(
            "invalid_request",
            f"{EXPLAIN} must be true or false",
            [detail(EXPLAIN, f"must be a boolean, got {_json_type(body[EXPLAIN])}")],
        )
    form = present[0]
    rows = body[form]
    if not isinstance(rows, list) or not rows:
        raise Invalid(
            "invalid_request", f"{form} must be a non-empty array", [detail(form, "must be a non-empty array")]
        )
    if len(rows) > max_batch:
        raise Invalid(
            "too_many_rows",
            f"at most {max_batch} rows per request",
            [detail(form, f"has {len(rows)} rows; the limit is {max_batch}")],
        )
    if form == "companies":
        underivable = [name for name in features if name not in ratios.RATIO_BY_NAME]
        if underivable:
            raise Invalid(
                "form_not_supported",
                "this model's features cannot be derived from statement values; "
                "send them by name with the instances form",
                [detail(name, "is not a ratio of the statement fields") for name in underivable],
            )
    if form != "data":
        _check_known_fields(
            rows, form, [*ratios.STATEMENT_FIELDS, flags.CURRENCY, flags.MARKET] if form == "companies" else features
        )
    if form == "companies":
        read = _companies(rows, features, missing)
    else:
        read = [_READERS[form](obj, i, features, missing) for i, obj in enumerate(rows)]
    if _ids_fine(rows):
        return read
    return [_check_id(row, obj) for row, obj in zip(read, rows)]
