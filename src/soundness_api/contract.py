"""/predict's request and answer shapes, declared once (msgspec): payloads.py validates requests
by them and openapi.py writes their JSON Schema from them.

A request's shapes depend on the model served (its features; whether it takes unknown inputs,
when a value absent or null is unknown) and on MAX_BATCH, so `shapes()` builds them for one
model, once. What JSON Schema cannot say is left to payloads.py and said in the descriptions
(RULES_IN_WORDS): that a row gives at least one of the model's inputs, that a company's ratios can
be computed, that a key appears once in an object.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from soundness import flags, ratios
from soundness.artifacts import CLASSES

from .errors import MAX_DETAILS

FORMS = ("companies", "instances", "data")
# `"explain": false` next to the rows skips the per-row explanation (a large batch answers sooner).
EXPLAIN = "explain"
MAX_ID_LENGTH = 200
MAX_MAGNITUDE = 1e300  # leaves room for the ratios' arithmetic before floats overflow
# JavaScript reads JSON numbers as doubles: a larger integer id would come back as another one.
MAX_SAFE_INTEGER = 2**53 - 1
# Characters that are invisible or reorder the text around them (U+202E shows "exe.txt" as
# "txt.exe"): an id carrying one could pass for another company's name in a table. Written as
# escapes both Python's re and JSON Schema's (ECMA-262) regular expressions read alike.
_HIDDEN = r"\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069"
HIDDEN_CHARACTERS = re.compile(f"[{_HIDDEN}]")
RULES_IN_WORDS = (
    "Beyond this schema: a key may appear only once in an object; a row must give at least one of the "
    "model's inputs (a company: at least one ratio that can be computed, no zero or negative "
    "denominator of a ratio the model needs, unless the model takes unknown inputs); a row that breaks "
    "a rule gets its error in its place, and the request fails (422) only when no row can be scored "
    "or a field name no row may have is given."
)

Number = Annotated[float, Meta(ge=-MAX_MAGNITUDE, le=MAX_MAGNITUDE)]
Id = Annotated[
    Annotated[str, Meta(max_length=MAX_ID_LENGTH, pattern=f"^[^{_HIDDEN}]*$")]
    | Annotated[int, Meta(ge=-MAX_SAFE_INTEGER, le=MAX_SAFE_INTEGER)],
    Meta(
        description="Optional; echoed back in the prediction. No control or bidirectional formatting "
        "characters; integers within 2^53 - 1 (send larger ones as strings)."
    ),
]
# What a company may say of itself beside its statements (optional; null is not given), for the
# KRX revenue floors among the red flags (soundness.flags).
CURRENCY_PATTERN = "^[A-Z]{3}$"
Currency = Annotated[
    str,
    Meta(
        pattern=CURRENCY_PATTERN,
        description="ISO 4217 code of the amounts' currency (optional): with market, for the KRX revenue floors",
    ),
]
Market = Annotated[
    Literal[flags.MARKETS],  # type: ignore[valid-type]
    Meta(description="Where the company is listed (optional; DART's corp_cls Y, K, N, E)"),
]
LISTING = ((flags.CURRENCY, Currency | None | UnsetType, UNSET), (flags.MARKET, Market | None | UnsetType, UNSET))
Explain = Annotated[
    bool, Meta(description="false leaves out each prediction's explanation (a large batch answers sooner)")
]


@dataclass(frozen=True, eq=False)  # one per model (shapes() is cached): compared by identity
class Shapes:
    """The request shapes for one model: each form's row type and request type."""

    features: tuple[str, ...]
    missing: bool  # the model takes unknown inputs
    max_batch: int
    rows: dict[str, Any]  # form -> the type of one row
    requests: dict[str, type[Struct]]  # form -> the type of a request in that form
    lengths: tuple[int, ...]  # the lengths a data row may have

    def batch(self, form: str) -> Any:
        """The type of a form's rows: 1 to max_batch rows of its row type."""
        return Annotated[list[self.rows[form]], Meta(min_length=1, max_length=self.max_batch)]  # type: ignore[name-defined]


def _value(missing: bool, description: str | None = None) -> tuple[Any, ...]:
    """A number field's (type, default): with `missing`, absent or null is unknown."""
    number = Annotated[Number, Meta(description=description)] if description else Number
    return (number | None | UnsetType, UNSET) if missing else (number,)


def _row(
    name: str, fields: Mapping[str, str | None], missing: bool, description: str, more: tuple = ()
) -> type[Struct]:
    """A row object: an optional id, number fields (wire name -> description), then `more`
    fields. Number fields get safe attribute names (f0, f1, ...): a feature may be named anything."""
    safe = {f"f{i}": wire for i, wire in enumerate(fields)}
    return msgspec.defstruct(
        name,
        [
            ("id", Id | UnsetType, UNSET),
            *((attribute, *_value(missing, fields[wire])) for attribute, wire in safe.items()),
            *more,
        ],
        rename=safe,
        namespace={"__doc__": description},
        kw_only=True,
        forbid_unknown_fields=True,
    )


def _data_lengths(features: tuple[str, ...], missing: bool) -> tuple[int, ...]:
    # The model's inputs in its order; or, for a model that takes unknowns, the legacy five alone.
    five = ratios.LEGACY_FEATURES
    legacy = missing and len(features) != len(five) and set(five) <= set(features)
    return (len(features), len(five)) if legacy else (len(features),)


@cache
def shapes(features: tuple[str, ...], missing: bool, max_batch: int) -> Shapes:
    """The request shapes for a model with these features, built once per model."""
    statements = {name: f"{label['en']} ({label['ko']})" for name, label in ratios.STATEMENT_FIELDS.items()}
    unknown = " A value absent or null is unknown." if missing else " Every field is needed."
    company = _row("Company", statements, missing, "A company's statement values." + unknown, LISTING)
    instance = _row("Instance", dict.fromkeys(features), missing, "The model's features by name." + unknown)
    lengths = _data_lengths(features, missing)
    element = Number | None if missing else Number
    alternatives = {"anyOf": [{"minItems": n, "maxItems": n} for n in lengths]} if len(lengths) > 1 else {}
    data_row = Annotated[
        list[element],  # type: ignore[valid-type]
        Meta(
            min_length=min(lengths),
            max_length=max(lengths),
            extra_json_schema=alternatives,
            description="The model's features in its order: "
            + ", ".join(features)
            + (f"; or the legacy five alone: {', '.join(ratios.LEGACY_FEATURES)}" if len(lengths) > 1 else "")
            + (". null is unknown." if missing else "."),
        ),
    ]
    rows = {"companies": company, "instances": instance, "data": data_row}
    partial = Shapes(features, missing, max_batch, rows, {}, lengths)
    requests = {
        form: msgspec.defstruct(
            f"{form.capitalize()}Request",
            [(form, partial.batch(form)), (EXPLAIN, Explain, True)],
            kw_only=True,
            forbid_unknown_fields=True,
        )
        for form in FORMS
    }
    return Shapes(features, missing, max_batch, rows, requests, lengths)


def generic_shapes(max_batch: int) -> Shapes:
    """The shapes when no model can be loaded: the legacy service's five features."""
    return shapes(tuple(ratios.LEGACY_FEATURES), False, max_batch)


# ---------------------------------------------------------------- answers


class Detail(Struct, omit_defaults=True):
    field: str | None
    problem: str
    index: int | UnsetType = UNSET


class ErrorBody(Struct, omit_defaults=True):
    code: str
    message: str
    details: Annotated[list[Detail], Meta(max_length=MAX_DETAILS)]
    details_omitted: Annotated[int, Meta(description="details left out to keep the answer small")] | UnsetType = UNSET


class Error(Struct):
    """Every refusal of this API (a protocol's routes answer in that protocol's shape)."""

    error: ErrorBody


class Explanation(Struct):
    """baseline + the sum of contributions = the score in that unit (models with an explanation
    background; GET /model says)."""

    unit: Literal["log_odds", "probability"]
    baseline: float
    contributions: dict[str, float]
    groups: dict[str, float] | UnsetType = UNSET


class Worded(Struct):
    code: str
    ko: str
    en: str


class Grade(Struct):
    """The risk grade (models with grades; GET /model lists them); grade null: too little known to judge."""

    grade: Annotated[int, Meta(ge=1, le=5)] | None
    code: str
    ko: str
    en: str


class Flag(Struct):
    """A red flag read from the statement values (companies form only), beside the model."""

    code: Literal[tuple(f.code for f in flags.FLAGS)]  # type: ignore[valid-type]
    ko: str
    en: str
    rule: str
    source: str


class Reason(Struct):
    """One of the largest contributions in words, phrased from its sign (explained rows)."""

    name: Annotated[str, Meta(description="a feature, or a group of them (explanation.groups)")]
    contribution: float
    direction: Literal["raised", "lowered"]
    ko: str
    en: str


class ModelName(Struct):
    name: str
    version: str


class Prediction(Struct, rename={"class_": "class"}):
    index: int
    id: str | int | None
    label: Annotated[
        Literal[0, 1],
        Meta(
            description="1 when probability_unsound is at or above the decision threshold (a screen, not "
            "a verdict: GET /model's label_meaning); kept, with class, for the legacy forms' programs"
        ),
    ]
    class_: Literal[tuple(c["name"] for c in CLASSES)]  # type: ignore[valid-type]
    class_ko: Literal[tuple(c["ko"] for c in CLASSES)]  # type: ignore[valid-type]
    probability_unsound: Annotated[float, Meta(ge=0, le=1)]
    ratios: dict[str, float | None]
    warnings: list[dict[str, Any]]
    explanation: Explanation | UnsetType = UNSET
    grade: Grade | UnsetType = UNSET
    flags: list[Flag] | UnsetType = UNSET
    reasons: Annotated[list[Reason], Meta(max_length=3)] | UnsetType = UNSET


class RowError(Struct):
    """A row that cannot be scored, in its place among the predictions."""

    index: int
    id: str | int | None
    error: ErrorBody


# A scored row or a refused one: JSON Schema's oneOf of the two (they share no tag).
Answer = Annotated[
    dict[str, Any],
    Meta(
        extra_json_schema={
            "oneOf": [{"$ref": "#/components/schemas/Prediction"}, {"$ref": "#/components/schemas/RowError"}]
        }
    ),
]


class PredictResponse(Struct):
    model: ModelName
    predictions: list[Answer]
    event: (
        Annotated[
            Worded, Meta(description="What probability_unsound is the probability of (models whose manifest names it)")
        ]
        | UnsetType
    ) = UNSET


ANSWERS = (Error, Prediction, RowError, PredictResponse)
