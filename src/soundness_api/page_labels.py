"""The page's names for the statement fields and the ratios, written from the sources the API
names them from (soundness.ratios; DART's account names from dart.py): frontend/labels.js, and the
form's nine fields in frontend/index.html (so the page shows them labelled before any script
runs, before GET /model answers, and even if it never does).

    python -m soundness_api.page_labels          # writes both
    python -m soundness_api.page_labels --check  # exit 1 when either is not what this writes
"""

from __future__ import annotations

import html
import json
import re
import sys
from pathlib import Path

from soundness.ratios import NOT_GIVEN, RATIOS, RULES, STATEMENT_FIELDS, TOO_CLOSE_TO_ZERO

from .dart import ACCOUNTS

FRONTEND = Path(__file__).resolve().parents[2] / "frontend"
LABELS_JS = FRONTEND / "labels.js"
INDEX_HTML = FRONTEND / "index.html"
FIELDS_BLOCK = re.compile(r"(<!-- fields: .*?-->\n)(.*?)(\s*<!-- /fields -->)", re.DOTALL)

# A ratio's unit by how its name ends: the page writes it after the number.
UNITS = {"_pct": {"ko": "%", "en": "%"}, "_pp": {"ko": "%p", "en": "pp"}}
TIMES = {"ko": "회", "en": "×"}


def unit_of(name: str) -> dict[str, str]:
    for ending, unit in UNITS.items():
        if name.endswith(ending):
            return unit
    return TIMES  # the two turnovers, the only ratios in "times"


def csv_headers() -> dict[str, str]:
    """DART's account names as CSV headers -> field: this year's bare or with 당기, the prior
    year's with 전기 (DART's own words for the two columns of one account)."""
    headers: dict[str, str] = {}
    for field, (names, column) in ACCOUNTS.items():
        for name in names:
            if column == "thstrm_amount":
                headers.setdefault(name, field)
                if not name.startswith("당기"):
                    headers.setdefault(f"당기{name}", field)
            else:
                headers.setdefault(f"전기{name}", field)
                headers.setdefault(f"{name}(전기)", field)
    return headers


def field_problems() -> dict[str, str]:
    """The API's words for what is wrong with a statement field -> the page's key for its own words."""
    return {RULES[rule].problem: rule for rule in RULES} | {
        TOO_CLOSE_TO_ZERO: "too_close_to_zero",
        NOT_GIVEN: "not_given",
    }


def module_text() -> str:
    statement = {name: dict(label) for name, label in STATEMENT_FIELDS.items()}
    ratios = {r.name: {"ko": r.ko, "en": r.en, "unit": unit_of(r.name)} for r in RATIOS}

    def constant(name: str, value: object) -> str:
        return f"export const {name} = {json.dumps(value, ensure_ascii=False, indent=2)};\n"

    return (
        "// Written by `python -m soundness_api.page_labels` from src/soundness/ratios.py and\n"
        "// src/soundness_api/dart.py (the API's own sources for these names): do not edit by hand.\n"
        "// The statement fields in the form's order, as the API names them, with their labels:\n"
        + constant("STATEMENT_LABELS", statement)
        + "// Every ratio a prediction carries, with its label and the unit its value is in:\n"
        + constant("RATIO_LABELS", ratios)
        + "// DART's account names a CSV header may use instead of a label -> field:\n"
        + constant("ACCOUNT_HEADERS", csv_headers())
        + "// How the API says what is wrong with a field (\"must be greater than 0 to compute ...\") -> the\n"
        + "// page's key for it in its own words:\n"
        + constant("FIELD_PROBLEMS", field_problems())
    )


def field_html(name: str, label: dict[str, str], indent: str) -> str:
    """One field of the form: its Korean label (the page's first language), the input, and the
    lines under it for what was read and what is wrong."""
    ko = html.escape(label["ko"])
    lines = [
        '<div class="field">',
        f'  <label for="f-{name}"><span class="label-text" data-field="{name}">{ko}</span> '
        f'<code class="api-name">{name}</code></label>',
        '  <div class="input-row">',
        f'    <input id="f-{name}" name="{name}" type="text" inputmode="decimal" autocomplete="off" '
        f'spellcheck="false" aria-describedby="r-{name} e-{name}">',
        f'    <button type="button" class="sign needs-js" data-sign-for="{name}" tabindex="-1">±</button>',
        "  </div>",
        f'  <p class="field-read" id="r-{name}" data-testid="read-{name}"></p>',
        f'  <p class="field-error" id="e-{name}" data-testid="error-{name}" hidden></p>',
        "</div>",
    ]
    return "\n".join(indent + line for line in lines)


def index_text(current: str) -> str:
    """index.html with its fields block written anew."""
    found = FIELDS_BLOCK.search(current)
    if found is None:
        raise SystemExit(f"{INDEX_HTML} has no <!-- fields: ... --> ... <!-- /fields --> block")
    indent = re.search(r"([ \t]*)<!-- fields:", current)[1]  # type: ignore[index]
    block = "\n".join(field_html(name, label, indent) for name, label in STATEMENT_FIELDS.items())
    return current[: found.start(2)] + block + current[found.end(2) :]


def main(argv: list[str]) -> int:
    written = {LABELS_JS: module_text(), INDEX_HTML: index_text(INDEX_HTML.read_text(encoding="utf-8"))}
    for path, text in written.items():
        if "--check" not in argv:
            path.write_text(text, encoding="utf-8")
        elif path.read_text(encoding="utf-8") != text:
            print(f"{path} is stale: run python -m soundness_api.page_labels", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
