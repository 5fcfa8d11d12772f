"""Request bodies: validated by the shapes declared in contract.py, turned into rows the model can
score or into errors that name the row and the field.

Nothing here guesses: a value that is not a finite number or a field that is not known is
reported, never repaired. A model that takes unknown inputs (its preprocessing has missing
indicators) gets a ratio that cannot be computed, or a value not given (absent or null), as
unknown (NaN), with a warning naming it; only a row with none of the model's inputs known is
refused. Any other model needs every input, as before.

The declaration decides (msgspec): a body is decoded in one pass by the declared types when it is
all well-formed, which is the usual request. Any other body is read by the strict JSON reader
below (duplicate keys, NaN and Infinity named) and each row converted by the same declared types
on its own, so one bad row gets its error in its place while the others are scored; the problems
are then said in words per field (`_row_problems`).
"""

from __future__ import annotations

import itertools
import json
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec
from msgspec import UNSET, UnsetType

from soundness import flags, jsontext, ratios

from .contract import (
    CURRENCY_PATTERN,
    EXPLAIN,
    FORMS,
    HIDDEN_CHARACTERS,
    MAX_ID_LENGTH,
    MAX_MAGNITUDE,
    MAX_SAFE_INTEGER,
    Shapes,
    shapes,
)
from .errors import MAX_DETAILS, Detail, Invalid, Malformed, Refusal, UnsupportedMedia, detail, echo

UNKNOWN_WARNING = "unknown_inputs"
NAN = float("nan")
# From this many companies on, the plain ones' ratios are computed as arrays (soundness.ratios.
# compute_columns): about 4 us a company against 15 one by one; below it the arrays' fixed cost
# is more than the saving.
ARRAY_ROWS = 16
STATEMENT_FIELDS = tuple(ratios.STATEMENT_FIELDS)
_INVALID = (msgspec.DecodeError, msgspec.ValidationError)
CURRENCY = re.compile(CURRENCY_PATTERN)
# A company's row as the declared type reads it: its id, the nine statement values, its listing.
_STATEMENT = slice(1, 1 + len(STATEMENT_FIELDS))
_LISTING = operator.itemgetter(1 + len(STATEMENT_FIELDS), 2 + len(STATEMENT_FIELDS))


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
    details: list[Detail]


@dataclass
class Parsed:
    """A request's rows, in order, each scoreable or with its errors; and whether to explain."""

    rows: list[Row | RowError]
    explain: bool


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
    key = next(key for key, _ in pairs if key in seen or seen.add(key))  # type: ignore[func-returns-value]
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


def check_media_type(content_type: str | None) -> None:
    """Refuse (415) a body not declared as JSON."""
    mimetype = (content_type or "").split(";", 1)[0].strip().lower()
    if mimetype != "application/json" and not mimetype.endswith("+json"):
        raise UnsupportedMedia(
            "unsupported_media_type",
            "send the body as JSON with Content-Type: application/json",
            [detail("Content-Type", f"got {mimetype or 'none'}")],
        )


def parse_json(raw: bytes, content_type: str | None) -> Any:
    """Body bytes to a JSON value: 415 if not declared JSON, 400 if not valid JSON."""
    check_media_type(content_type)
    return _strict_json(raw)


def _strict_json(raw: bytes) -> Any:
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


# ---------------------------------------------------------------- a value's problem in words


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


def _currency_problem(value: Any) -> str | None:
    if value is None or (isinstance(value, str) and CURRENCY.fullmatch(value)):
        return None
    return "must be an ISO 4217 code of three capital letters, such as KRW"


def _market_problem(value: Any) -> str | None:
    return None if value is None or value in flags.MARKETS else "must be one of " + ", ".join(flags.MARKETS)


# A field's problem in words (number_problem for the others).
_WORDS = {"id": _id_problem, flags.CURRENCY: _currency_problem, flags.MARKET: _market_problem}


def _data_problem(shape: Shapes) -> str:
    five = ", ".join(ratios.LEGACY_FEATURES)
    alternative = f" (or the legacy five: {five})" if len(shape.lengths) > 1 else ""
    return f"must be an array of {len(shape.features)} numbers in this order: {', '.join(shape.features)}{alternative}"


def _row_problems(obj: Any, form: str, shape: Shapes, index: int, refusal: msgspec.ValidationError) -> list[Detail]:
    """What the declared row type refused in `obj`, field by field in words; msgspec's own words
    when none of ours applies."""
    if form == "data":
        if not isinstance(obj, list) or len(obj) not in shape.lengths:
            return [detail(None, _data_problem(shape), index)]
        problems = [
            detail(name, problem, index)
            for name, value in zip(_data_order(obj, shape), obj)
            if not (shape.missing and value is None) and (problem := number_problem(value))
        ]
    elif not isinstance(obj, dict):
        return [detail(None, f"must be an object, got {_json_type(obj)}", index)]
    else:
        problems = []
        for declared in msgspec.structs.fields(shape.rows[form]):
            name = declared.encode_name
            if name not in obj:
                if declared.required:
                    problems.append(detail(name, "is required", index))
                continue
            try:
                msgspec.convert(obj[name], declared.type)
            except msgspec.ValidationError as exc:
                words = _WORDS.get(name, number_problem)(obj[name])
                problems.append(detail(name, words or str(exc), index))
    return problems or [detail(None, str(refusal), index)]


# ---------------------------------------------------------------- the request as a whole


def _check_known_fields(rows: list, form: str, allowed: Sequence[str]) -> None:
    """Refuse the request if any row has a field no row may have: each such key is named
    once, with the first row that has it and how many do (not once per row)."""
    allowed_keys = set(allowed)
    if set(map(type, rows)) == {dict} and set().union(*rows) <= allowed_keys:  # the usual batch, in C
        return
    found: dict[str, list[int]] = {}  # key -> [first index, rows having it]
    for index, obj in enumerate(rows):
        for key in obj if isinstance(obj, dict) else ():
            if key not in allowed_keys:
                found.setdefault(key, [index, 0])[1] += 1
    if found:
        named = list(found.items())[:MAX_DETAILS]
        expected = [name for name in allowed if name != "id"]
        raise Invalid(
            "unknown_field",
            f"{len(found)} unknown field name(s) in {form}; expected: " + ", ".join(expected),
            [
                detail(key, f"is not a known field (in {count} row{'s' * (count > 1)})", first)
                for key, (first, count) in named
            ],
            omitted=len(found) - len(named),
        )


def _check_form_supported(form: str, features: Sequence[str]) -> None:
    underivable = [name for name in features if name not in ratios.RATIO_BY_NAME]
    if form == "companies" and underivable:
        raise Invalid(
            "form_not_supported",
            "this model's features cannot be derived from statement values; send them by name with the instances form",
            [detail(name, "is not a ratio of the statement fields") for name in underivable],
        )


def _envelope(body: Any, max_batch: int) -> tuple[str, list, bool]:
    """The form, its rows and whether to explain, of a parsed body; or the refusal of the whole."""
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
    explain = body.get(EXPLAIN, True)
    if not isinstance(explain, bool):
        raise Invalid(
            "invalid_request",
            f"{EXPLAIN} must be true or false",
            [detail(EXPLAIN, f"must be a boolean, got {_json_type(explain)}")],
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
    return form, rows, explain


class _Forms(msgspec.Struct, forbid_unknown_fields=True):
    """A body's envelope, its rows left as JSON text: which form it is, before the rows are read."""

    companies: msgspec.Raw | UnsetType = UNSET
    instances: msgspec.Raw | UnsetType = UNSET
    data: msgspec.Raw | UnsetType = UNSET
    explain: bool | UnsetType = UNSET


_FORMS_DECODER = msgspec.json.Decoder(_Forms)


class _Decoders:
    """The declared row types' decoders for one model, made once."""

    def __init__(self, shape: Shapes):
        self.batches = {form: msgspec.json.Decoder(shape.batch(form)) for form in FORMS}
        self.widths = {form: len(msgspec.structs.fields(shape.rows[form])) for form in FORMS if form != "data"}


_decoders: dict[Shapes, _Decoders] = {}


def _decoded(raw: bytes, shape: Shapes) -> Parsed | None:
    """The request read in one pass by the declared types; None when the body is not all
    well-formed, or may repeat a key, for the strict reader to say what is wrong."""
    try:
        forms = _FORMS_DECODER.decode(raw)
    except _INVALID:
        return None
    present = [form for form in FORMS if getattr(forms, form) is not UNSET]
    if len(present) != 1:
        return None
    form = present[0]
    decoders = _decoders.get(shape) or _decoders.setdefault(shape, _Decoders(shape))
    try:
        rows = decoders.batches[form].decode(getattr(forms, form))
    except _INVALID:
        return None
    if form == "data":
        if not set(map(len, rows)) <= set(shape.lengths):
            return None
        items, keys = rows, 0
    else:
        if form == "companies" and any(name not in ratios.RATIO_BY_NAME for name in shape.features):
            return None
        items = list(map(msgspec.structs.astuple, rows))
        keys = len(items) * decoders.widths[form] - list(itertools.chain.from_iterable(items)).count(UNSET)
    # msgspec keeps the last of a repeated key. A JSON text has a colon after each key and
    # elsewhere only inside strings: as many colons as keys read means no key came twice.
    keys += 1 + (forms.explain is not UNSET)
    if raw.count(b":") != keys:
        return None
    return Parsed(_read(form, items, shape), forms.explain is not False)


def _converted(body: Any, shape: Shapes) -> Parsed:
    """The request read from a parsed body, each row converted by its declared type on its own."""
    form, objs, explain = _envelope(body, shape.max_batch)
    _check_form_supported(form, shape.features)
    row_type = shape.rows[form]
    if form != "data":
        _check_known_fields(objs, form, [f.encode_name for f in msgspec.structs.fields(row_type)])
    items: list[Any] = []
    for index, obj in enumerate(objs):
        try:
            row = msgspec.convert(obj, row_type)
            if form == "data" and len(row) not in shape.lengths:
                raise msgspec.ValidationError(_data_problem(shape))
        except msgspec.ValidationError as refusal:
            id_ = obj.get("id") if isinstance(obj, dict) and _id_problem(obj.get("id", "")) is None else None
            items.append(RowError(index, id_, _row_problems(obj, form, shape, index, refusal)))
            continue
        items.append(row if form == "data" else msgspec.structs.astuple(row))
    return Parsed(_read(form, items, shape), explain)


def parse_request(body: bytes | Any, features: Sequence[str], max_batch: int, missing: bool = False) -> Parsed:
    """The request's rows, each scoreable or with its errors, and whether to explain. `body` is
    the JSON text (of a body already declared JSON) or the parsed value (the other protocols'
    rows, rebuilt as /predict's forms).

    `missing`: the model takes unknown inputs (see the module's docstring)."""
    shape = shapes(tuple(features), missing, max_batch)
    if isinstance(body, bytes):
        parsed = _decoded(body, shape)
        if parsed is not None:
            return parsed
        body = _strict_json(body)
    return _converted(body, shape)


def parse_rows(body: Any, features: Sequence[str], max_batch: int, missing: bool = False) -> list[Row | RowError]:
    """parse_request's rows."""
    return parse_request(body, features, max_batch, missing).rows


# ---------------------------------------------------------------- rows to scoreable rows


def _broken_fields(result: ratios.RatioResult, features: Sequence[str]) -> dict[tuple[str, str], list[str]]:
    """(field, its problem) -> the features it leaves undefined."""
    broken: dict[tuple[str, str], list[str]] = {}
    for name in features:
        if name in result.problems:
            broken.setdefault(result.problems[name], []).append(name)
    return broken


def _ratio_problems(result: ratios.RatioResult, features: Sequence[str], index: int) -> list[Detail]:
    """One detail per field that breaks a feature, naming every feature it breaks."""
    return [
        detail(field, ratios.problem_text(problem, names), index)
        for (field, problem), names in _broken_fields(result, features).items()
    ]


def _scoreable(
    index: int,
    id_: Any,
    values: dict[str, float | None],
    shape: Shapes,
    shown: dict[str, float | None],
    refusal: list[Detail] | None = None,
    why: str | None = None,
    warnings: list[dict[str, Any]] | None = None,
) -> Row | RowError:
    """A row from the model's inputs (None: unknown). Refused when the model cannot take what is
    unknown or nothing is known, with the `refusal` details (by default: none of the inputs is
    given); else the unknowns are warned of, `why` (by default: they were not given)."""
    features = shape.features
    row = [values.get(name) for name in features]
    warnings = list(warnings or ())
    unknown = [name for name, value in zip(features, row) if value is None]
    if unknown:
        if not shape.missing or len(unknown) == len(features):
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
    return Row(index, id_, row, shown, warnings)  # type: ignore[arg-type]


def _nothing_known(features: Sequence[str], index: int) -> list[Detail]:
    return [detail(None, "gives none of the model's inputs: " + ", ".join(features), index)]


def _given(names: Sequence[str], values: Sequence[Any]) -> dict[str, float]:
    """The values given (neither absent nor null), by name."""
    return {name: value for name, value in zip(names, values) if value is not None and value is not UNSET}


def _id(item: tuple) -> Any:
    return None if item[0] is UNSET else item[0]


def _listed(row: Row | RowError, item: tuple, known: tuple[float, ...] | None = None) -> Row | RowError:
    """A company's row with its statement values and what it says of itself, for its flags;
    `known`: the item's statement values when every one is given (taken as they are)."""
    if isinstance(row, Row):
        row.statement = known or tuple(NAN if v is None or v is UNSET else v for v in item[_STATEMENT])
        currency, market = _LISTING(item)
        row.currency = None if currency is UNSET else currency
        row.market = None if market is UNSET else market
    return row


def _company(item: tuple, index: int, shape: Shapes) -> Row | RowError:
    result = ratios.compute(_given(STATEMENT_FIELDS, item[_STATEMENT]))
    why = "; ".join(
        f"{field} {ratios.problem_text(problem, names)}"
        for (field, problem), names in _broken_fields(result, shape.features).items()
    )
    row = _scoreable(
        index,
        _id(item),
        result.values,
        shape,
        result.values,
        _ratio_problems(result, shape.features, index),
        why,
        result.warnings,
    )
    return _listed(row, item)


def _instance(item: tuple, index: int, shape: Shapes) -> Row | RowError:
    values = _given(shape.features, item[1:])
    return _scoreable(index, _id(item), dict(values), shape, dict(values))


def _data_order(row: Sequence[Any], shape: Shapes) -> Sequence[str]:
    return ratios.LEGACY_FEATURES if len(row) != len(shape.features) else shape.features


def _data(row: list, index: int, shape: Shapes) -> Row | RowError:
    values = _given(_data_order(row, shape), row)
    return _scoreable(index, None, dict(values), shape, dict(values))


_READERS: dict[str, Callable[[Any, int, Shapes], Row | RowError]] = {
    "companies": _company,
    "instances": _instance,
    "data": _data,
}


def _read(form: str, items: list[Any], shape: Shapes) -> list[Row | RowError]:
    """Each validated row (a row object's values as a tuple, id first; a data row as its list)
    read into a scoreable row or its errors; rows already refused stay as they are."""
    if form == "companies" and len(items) >= ARRAY_ROWS:
        return _companies(items, shape)
    read = _READERS[form]
    return [item if isinstance(item, RowError) else read(item, index, shape) for index, item in enumerate(items)]


def _companies(items: list[Any], shape: Shapes) -> list[Row | RowError]:
    """`_company` of every item, the same rows: the plain statements (all nine given) whose every
    ratio is defined are computed as arrays, the others one by one, where their problems are named."""
    import numpy as np  # here, so this module alone brings no numpy (main imports it before the fork anyway)

    plain = [i for i, item in enumerate(items) if not isinstance(item, RowError) and _plain(item)]
    rows: list[Row | RowError | None] = [None] * len(items)
    if plain:
        statements = [items[i][_STATEMENT] for i in plain]
        values = np.array(statements, dtype=float)
        columns = dict(zip(STATEMENT_FIELDS, values.T))
        table = ratios.compute_columns(columns)
        names, shown = list(table), np.column_stack(list(table.values()))
        defined = np.isfinite(shown).all(axis=1)
        unbalanced = ratios.maybe_unbalanced(columns)
        inputs = operator.itemgetter(*[names.index(name) for name in shape.features])
        sheet = operator.itemgetter(*[STATEMENT_FIELDS.index(name) for name in ratios.BALANCE_FIELDS])
        for i, statement, row, ok, check in zip(
            plain, statements, shown.tolist(), defined.tolist(), unbalanced.tolist()
        ):
            if ok:
                warnings = ratios.balance_warning(*sheet(statement)) if check else []
                scored = Row(i, _id(items[i]), list(inputs(row)), dict(zip(names, row)), warnings)
                rows[i] = _listed(scored, items[i], statement)
    return [
        row or (item if isinstance(item, RowError) else _company(item, i, shape))
        for i, (item, row) in enumerate(zip(items, rows))
    ]


def _plain(item: tuple) -> bool:
    """All nine statement values given (validated numbers are floats)."""
    return all(type(value) is float for value in item[_STATEMENT])
