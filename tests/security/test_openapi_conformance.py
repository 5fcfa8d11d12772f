"""The served OpenAPI document is honest: schemathesis, run against a real server from
/openapi.json, finds no 5xx and no answer outside the document (status, content type,
headers, body), for a healthy model, with API keys, and with no model at all. The company
lookup is configured with the local DART stand-in, so its routes are exercised too, and BigQuery's,
KServe V1's and the Open Inference Protocol's routes are on.

Every check runs except the two that judge a request as a whole: a batch is answered 200 with
each row that breaks the schema refused in its place (so negative_data_rejection, which wants a
4xx for any schema-violating body, does not apply), and a schema-valid row can still be refused
(a zero denominator), which no JSON Schema can express and the document says in words. Those
verdicts are held row by row, body by body, by tests/test_agreement.py.
"""

import re
import subprocess
import sys
import urllib.request

import pytest

pytestmark = pytest.mark.server


def run_schemathesis(
    server,
    workdir,
    max_examples: int,
    *options: str,
    excluded: str = "positive_data_acceptance,negative_data_rejection",
) -> tuple[int, str]:
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        f"{server.url}/openapi.json",
        "--checks",
        "all",
        "--exclude-checks",
        excluded,
        "--max-examples",
        str(max_examples),
        "--generation-deterministic",
        "--workers",
        "1",
        "--request-timeout",
        "10",
        "--no-color",
        *options,
    ]
    done = subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=480)
    return done.returncode, done.stdout + done.stderr


def cases_passed(output: str) -> int:
    match = re.search(r"(\d+) generated, (\d+) passed", output)
    assert match, output[-3000:]
    generated, passed = map(int, match.groups())
    assert generated == passed, output[-3000:]
    print(f"\nschemathesis: {generated} cases, all passed")
    return generated


def warmed(server):
    """The server with its model loaded: a cold load on a busy machine can outlast schemathesis's
    10 s request timeout, which would fail the run for a reason that is not the document's."""
    urllib.request.urlopen(server.url + "/ready", timeout=120).close()
    return server


def server_errors(server) -> list[dict]:
    return [
        line
        for line in server.log_lines()
        if line.get("httpRequest", {}).get("status", 0) >= 500 and line["httpRequest"]["status"] != 503
    ]


def test_every_answer_of_a_healthy_server_matches_its_openapi_document(
    serve, served_model_dir, tmp_path, dart_stand_in
):
    server = warmed(serve(MODEL_DIR=served_model_dir, BIGQUERY_ROUTE="on", **dart_stand_in.env()))
    code, output = run_schemathesis(server, tmp_path, 60)
    assert code == 0, output[-4000:]
    assert cases_passed(output) >= 200
    assert not server_errors(server)


def test_with_api_keys_the_document_still_holds_and_predictions_need_the_key(
    serve, served_model_dir, tmp_path, dart_stand_in
):
    server = warmed(serve(MODEL_DIR=served_model_dir, API_KEYS="k1,k2", BIGQUERY_ROUTE="on", **dart_stand_in.env()))
    code, output = run_schemathesis(server, tmp_path, 25, "--header", "X-API-Key: k2")
    assert code == 0, output[-4000:]
    assert cases_passed(output) >= 50
    assert not server_errors(server)


def test_without_a_model_every_route_answers_as_documented(serve, tmp_path):
    server = serve(MODEL_DIR=tmp_path / "no-model-here", BIGQUERY_ROUTE="on")
    # The documented 503 is the right answer here, so "no 5xx" is checked from the log instead.
    code, output = run_schemathesis(
        server, tmp_path, 15, excluded="positive_data_acceptance,negative_data_rejection,not_a_server_error"
    )
    assert code == 0, output[-4000:]
    assert cases_passed(output) >= 50
    statuses = {line["httpRequest"]["status"] for line in server.log_lines() if "httpRequest" in line}
    assert 503 in statuses and not server_errors(server)
