"""The legacy service's worked example has one source, ../shared/reference/seed-example.json:
the tests' copy (for when ../shared is absent), the README's first curl example and the page's
example CSV restate it, and are held equal to it here."""

import csv
import json
import re

from helpers import LEGACY_RATIOS, LEGACY_STATEMENT, REFERENCE, ROOT, need_shared
from soundness.ratios import STATEMENT_FIELDS


def test_the_tests_copy_is_the_worked_example():
    example = json.loads(need_shared(REFERENCE / "seed-example.json").read_text())
    assert {name: field["value"] for name, field in example["statement_inputs"].items()} == LEGACY_STATEMENT
    assert example["ratios_posted_by_the_seed_page"]["values"] == LEGACY_RATIOS


def test_the_readmes_first_curl_example_posts_the_worked_example():
    body = re.search(r"-d '(\{\"companies\".*?)'", (ROOT / "README.md").read_text(), re.S).group(1)
    (company,) = json.loads(body)["companies"]
    assert {name: value for name, value in company.items() if name != "id"} == LEGACY_STATEMENT


def test_the_example_csvs_first_company_is_the_worked_example():
    with open(ROOT / "frontend" / "example-companies.csv", newline="", encoding="utf-8") as file:
        header, first, *_ = csv.reader(file)
    by_label = {field["ko"]: name for name, field in STATEMENT_FIELDS.items()}
    amounts = {by_label[label]: int(text.replace(",", "")) for label, text in zip(header[1:], first[1:])}
    assert amounts == LEGACY_STATEMENT
