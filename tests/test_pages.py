"""The page's files as the function serves them: validators and 304s, gzip, caching by version,
and the headers that keep the page to itself (HSTS over HTTPS, Permissions-Policy, COOP)."""

from __future__ import annotations

import gzip
import os
import re
import shutil
from pathlib import Path

import pytest

from helpers import ROOT

FRONTEND = ROOT / "frontend"
IDENTITY = {"Accept-Encoding": "identity"}


@pytest.fixture
def page_dir(tmp_path) -> Path:
    """A copy of frontend/ a test may change."""
    return Path(shutil.copytree(FRONTEND, tmp_path / "frontend"))


@pytest.fixture
def client(make_client, page_dir):
    client = make_client(FRONTEND_DIR=page_dir)
    client.headers["Accept"] = "text/html,*/*;q=0.8"  # as a browser asks (GET / answers others KServe's liveness)
    return client


def versioned_names(index_html: str) -> dict[str, str]:
    """name -> the v/<version>/name the page asks for it by."""
    return {m[2]: m[0] for m in re.finditer(r"v/([0-9a-f]{12})/([\w.-]+)", index_html)}


def test_the_page_names_its_files_under_one_version_and_those_answers_are_kept_for_a_year(client):
    page = client.get("/")
    assert page.headers["Cache-Control"] == "no-cache"
    names = versioned_names(page.text)
    assert {"style.css", "app.js", "config.js", "favicon.svg"} <= names.keys()
    assert len({path.split("/")[1] for path in names.values()}) == 1
    for path in names.values():
        answer = client.get("/" + path)
        assert answer.status_code == 200, path
        assert answer.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    # Modules the entry script imports resolve beside it, under the same version.
    version = names["app.js"].split("/")[1]
    assert client.get(f"/v/{version}/i18n.js").headers["Cache-Control"].endswith("immutable")
    assert client.get("/app.js").headers["Cache-Control"] == "no-cache"
    assert client.get("/v/000000000000/app.js").headers["Cache-Control"] == "no-cache"  # an old page's version
    assert 'href="example-companies.csv"' in page.text  # a download, not a file of the page: its own name


def test_changing_any_file_changes_the_version_the_page_names(client, page_dir):
    before = versioned_names(client.get("/").text)["app.js"]
    style = page_dir / "style.css"
    style.write_text(style.read_text() + "\n/* changed */\n")
    after = versioned_names(client.get("/").text)["app.js"]
    assert before != after
    assert client.get("/" + before).headers["Cache-Control"] == "no-cache"
    assert client.get("/" + after).headers["Cache-Control"].endswith("immutable")


@pytest.mark.parametrize("path", ["/", "/app.js", "/style.css", "/example-companies.csv"])
def test_a_browser_holding_the_current_copy_gets_304_by_etag_or_date(client, path):
    first = client.get(path, headers=IDENTITY)
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert etag.startswith('"') and etag.endswith('"')
    again = client.get(path, headers={**IDENTITY, "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["ETag"] == etag
    assert client.get(path, headers={**IDENTITY, "If-None-Match": f'"other", W/{etag}'}).status_code == 304
    assert client.get(path, headers={**IDENTITY, "If-Modified-Since": modified}).status_code == 304
    assert client.get(path, headers={**IDENTITY, "If-None-Match": '"other"'}).status_code == 200
    # If-None-Match decides when both are sent (RFC 9110 §13.2.2).
    both = {**IDENTITY, "If-None-Match": '"other"', "If-Modified-Since": modified}
    assert client.get(path, headers=both).status_code == 200
    assert client.get(path, headers={**IDENTITY, "If-Modified-Since": "not a date"}).status_code == 200


def test_a_changed_file_is_sent_again_with_a_new_etag(client, page_dir):
    first = client.get("/app.js", headers=IDENTITY)
    script = page_dir / "app.js"
    script.write_text(script.read_text() + "\n// changed\n")
    stat = script.stat()
    os.utime(script, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))
    again = client.get("/app.js", headers={**IDENTITY, "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 200 and again.text.endswith("// changed\n")
    assert again.headers["ETag"] != first.headers["ETag"]
    # index.html is as new as its newest file: its date moved with app.js, though it did not change.
    index = client.get("/", headers={**IDENTITY, "If-Modified-Since": first.headers["Last-Modified"]})
    assert index.status_code == 200


def test_text_goes_gzipped_to_a_browser_that_takes_gzip(client, page_dir):
    raw = client.get("/app.js", headers=IDENTITY)
    zipped = client.stream("GET", "/app.js", headers={"Accept-Encoding": "gzip, deflate, br"})
    with zipped as answer:
        body = answer.read()
        headers = answer.headers
    assert headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in headers["Vary"]
    assert headers["ETag"] != raw.headers["ETag"]  # one tag per representation
    assert "Content-Encoding" not in raw.headers
    assert raw.content == (page_dir / "app.js").read_bytes()
    # httpx decodes as it reads: the length on the wire is the header's
    assert int(headers["Content-Length"]) < len(raw.content) / 2
    assert gzip.decompress(gzip.compress(body)) == raw.content
    for refused in ("gzip;q=0", "identity", ""):
        assert "Content-Encoding" not in client.get("/app.js", headers={"Accept-Encoding": refused}).headers


def test_every_text_file_of_the_page_is_smaller_gzipped(client, page_dir):
    saved = 0
    for file in [*sorted(page_dir.glob("*.js")), page_dir / "style.css", page_dir / "index.html"]:
        with client.stream("GET", "/" + file.name, headers={"Accept-Encoding": "gzip"}) as answer:
            answer.read()
            sent = int(answer.headers["Content-Length"])
            if file.stat().st_size >= 512:
                assert answer.headers["Content-Encoding"] == "gzip", file.name
        saved += file.stat().st_size - sent
    assert saved > 20_000


@pytest.mark.parametrize("path", ["/", "/index.html", "/app.js", "/style.css"])
def test_the_page_and_its_files_keep_other_windows_and_powers_out(client, path):
    answer = client.get(path)
    assert answer.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    policy = dict(part.strip().split("=", 1) for part in answer.headers["Permissions-Policy"].split(","))
    assert policy["camera"] == policy["microphone"] == policy["geolocation"] == "()"
    assert "Strict-Transport-Security" not in answer.headers  # plain HTTP: a browser would ignore it


@pytest.mark.parametrize("path", ["/", "/app.js"])
def test_over_https_the_page_asks_browsers_to_keep_to_https(client, path):
    answer = client.get(path, headers={"X-Forwarded-Proto": "https"})
    hsts = answer.headers["Strict-Transport-Security"]
    assert int(re.search(r"max-age=(\d+)", hsts)[1]) >= 31536000
    assert client.get("https://testserver" + path).headers["Strict-Transport-Security"] == hsts


# ---------------------------------------------------------------- the labels the page carries


def test_the_pages_labels_are_written_from_the_apis_source_and_are_current():
    from soundness_api import page_labels

    assert page_labels.LABELS_JS.read_text(encoding="utf-8") == page_labels.module_text(), (
        "frontend/labels.js is stale: run python -m soundness_api.page_labels"
    )
    index = page_labels.INDEX_HTML.read_text(encoding="utf-8")
    assert index == page_labels.index_text(index), "frontend/index.html's fields are stale: run the same"
    assert page_labels.main(["--check"]) == 0


def test_the_labels_the_page_carries_are_the_ones_get_model_gives(make_client):
    import json

    facts = make_client().get("/model").json()
    text = (FRONTEND / "labels.js").read_text(encoding="utf-8")
    carried = {
        name: json.loads(value) for name, value in re.findall(r"export const (\w+) = (.*?);\n", text, flags=re.DOTALL)
    }
    assert carried["STATEMENT_LABELS"] == facts["statement_labels"]
    assert {name: {"ko": r["ko"], "en": r["en"]} for name, r in carried["RATIO_LABELS"].items()} == facts[
        "ratio_labels"
    ]
    index = (FRONTEND / "index.html").read_text(encoding="utf-8")
    shown = dict(re.findall(r'data-field="(\w+)">([^<]+)<', index))
    assert shown == {name: label["ko"] for name, label in facts["statement_labels"].items()}
    assert list(shown) == list(facts["statement_labels"])  # in the form's order


def test_darts_account_names_are_csv_headers_for_the_field_they_fill():
    from soundness_api.dart import ACCOUNTS
    from soundness_api.page_labels import csv_headers

    headers = csv_headers()
    for field, (names, column) in ACCOUNTS.items():
        for name in names:
            key = name if column == "thstrm_amount" else f"전기{name}"
            assert headers[key] == field


def test_the_page_asks_for_every_module_at_once_and_blocks_its_first_paint_on_no_script():
    index = (FRONTEND / "index.html").read_text(encoding="utf-8")
    preloaded = set(re.findall(r'<link rel="modulepreload" href="([\w-]+\.js)">', index))
    imported = {m for file in FRONTEND.glob("*.js") for m in re.findall(r'from "\./([\w-]+\.js)"', file.read_text())}
    assert preloaded == imported  # one round of requests, however deep the imports go
    scripts = re.findall(r"<script\b([^>]*)>", index)
    assert scripts and all("defer" in attrs or 'type="module"' in attrs for attrs in scripts)
