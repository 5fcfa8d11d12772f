"""deploy.sh, cloudbuild.yaml and .gcloudignore, against a stand-in gcloud that records its calls.

No Google Cloud here: tests/deploy/fake-bin/gcloud is put first on PATH and writes each call's
arguments as a JSON line; the deploy commands are compared to the exact expected argv.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from helpers import ROOT, post_json
from soundness_api.config import ENV_NAMES

DEPLOY = ROOT / "deploy.sh"
FAKE_BIN = Path(__file__).resolve().parent / "fake-bin"
STAGING = ROOT / "build" / "deploy"
PROJECT, REGION = "demo-project", "europe-west1"
FAKE_URL = "https://pytest-fake-ew.a.run.app"
STARTUP_PROBE = "httpGet.path=/ready,periodSeconds=1,timeoutSeconds=1,failureThreshold=30"
# The one place that names the deployed Python: deploy.sh.
PYTHON_VERSION = re.search(r'^PYTHON_VERSION="(3\.\d+)"$', DEPLOY.read_text(), re.M).group(1)
RUNTIME = "python" + PYTHON_VERSION.replace(".", "")
# What every deploy's env file holds beside the service's own settings.
PLATFORM_ENV = {"FUNCTION_USE_ASGI": "true", "GOOGLE_CLOUD_PROJECT": PROJECT}
# The repo venv's python3 first: deploy.sh needs only its standard library, and it starts fast.
BASE_PATH = os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])
# Everything deploy.sh reads from the environment: cleared so the caller's shell cannot leak in.
DEPLOY_ENV_KEYS = (
    *ENV_NAMES,
    "PROJECT",
    "GOOGLE_CLOUD_PROJECT",
    "REGION",
    "NAME",
    "BUCKET",
    "TARGET",
    "ALLOW_UNAUTHENTICATED",
    "DRY_RUN",
    "API_KEYS_SECRET",
    "DART_API_KEY_SECRET",
    "BIGQUERY",
    "MEMORY",
    "CONCURRENCY",
    "MIN_INSTANCES",
    "MAX_INSTANCES",
    "FAKE_GCLOUD_ACCOUNT",
    "FAKE_GCLOUD_FAIL",
)
# What a deploy stages itself (the model as model/, the page as frontend/), so passes through no setting for.
STAGED_SETTINGS = {"MODEL_DIR", "FRONTEND_DIR"}


class Deploy:
    """Runs deploy.sh under one test-only name, with the stand-in gcloud, and reads what it did."""

    def __init__(self, name: str, log: Path):
        self.name, self.log = name, log
        self.stage = STAGING / name
        self.env_file = STAGING / f"{name}.env.yaml"
        self.site = STAGING / f"{name}.site"

    def remove_staging(self) -> None:
        for name in (self.name, f"{self.name}-bigquery"):
            shutil.rmtree(STAGING / name, ignore_errors=True)
            shutil.rmtree(STAGING / f"{name}.site", ignore_errors=True)
            (STAGING / f"{name}.env.yaml").unlink(missing_ok=True)

    def __call__(self, *args: str, path: str | None = None, **env: str) -> subprocess.CompletedProcess:
        full_env = {k: v for k, v in os.environ.items() if k not in DEPLOY_ENV_KEYS}
        full_env.update(
            PATH=path or f"{FAKE_BIN}{os.pathsep}{BASE_PATH}",
            FAKE_GCLOUD_LOG=str(self.log),
            FAKE_GCLOUD_URL=FAKE_URL,
            **env,
        )
        return subprocess.run(
            [str(DEPLOY), "--name", self.name, *args],
            env=full_env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def calls(self) -> list[list[str]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def deploy_calls(self) -> list[list[str]]:
        return [call for call in self.calls() if "deploy" in call[:2]]

    def expected_functions_deploy(
        self, access: str = "--no-allow-unauthenticated", secrets: str = "--clear-secrets"
    ) -> list[str]:
        return [
            "functions",
            "deploy",
            self.name,
            f"--project={PROJECT}",
            "--gen2",
            f"--region={REGION}",
            f"--runtime={RUNTIME}",
            f"--source={self.stage}",
            "--entry-point=predict",
            "--trigger-http",
            *self.sizing(),
            secrets,
            access,
            "--quiet",
        ]

    def expected_run_deploy(
        self, access: str = "--no-allow-unauthenticated", secrets: str = "--clear-secrets"
    ) -> list[str]:
        return [
            "run",
            "deploy",
            self.name,
            f"--project={PROJECT}",
            f"--region={REGION}",
            f"--source={self.stage}",
            "--function=predict",
            f"--base-image={RUNTIME}",
            "--cpu-boost",
            f"--startup-probe={STARTUP_PROBE}",
            *self.sizing(),
            secrets,
            access,
            "--quiet",
        ]

    def sizing(self) -> list[str]:
        return [
            "--memory=512Mi",
            "--cpu=1",
            "--timeout=60s",
            "--concurrency=16",
            "--min-instances=0",
            "--max-instances=10",
            f"--env-vars-file={self.env_file}",
        ]


@pytest.fixture
def deploy(request, tmp_path):
    # One name per test, so tests never share (or clobber a person's) build/deploy/ folders; short
    # enough for --bigquery's "-bigquery" (service names stop at 49 characters).
    name = "pytest-" + re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")[:32].rstrip("-")
    runner = Deploy(name, tmp_path / "gcloud-calls.jsonl")
    runner.remove_staging()
    yield runner
    runner.remove_staging()


def required(model: Path) -> list[str]:
    return ["--project", PROJECT, "--region", REGION, "--model", str(model)]


def tree(directory: Path) -> dict[str, str]:
    return {
        str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def env_file(path: Path) -> dict[str, str]:
    return yaml.safe_load(path.read_text())


# ---------------------------------------------------------------- the deploy commands


def test_functions_target_deploys_gen2_http_function_with_deliberate_sizing(deploy, small_model_dir):
    result = deploy(*required(small_model_dir))
    assert result.returncode == 0, result.stderr
    assert deploy.deploy_calls() == [deploy.expected_functions_deploy()]


def test_run_target_deploys_a_cloud_run_service_built_as_a_function(deploy, small_model_dir):
    result = deploy(*required(small_model_dir), "--target", "run", "--allow-unauthenticated")
    assert result.returncode == 0, result.stderr
    assert deploy.deploy_calls() == [deploy.expected_run_deploy("--allow-unauthenticated")]


def test_every_setting_can_come_from_the_environment(deploy, small_model_dir):
    result = deploy(
        PROJECT=PROJECT, REGION=REGION, MODEL_DIR=str(small_model_dir), TARGET="run", ALLOW_UNAUTHENTICATED="true"
    )
    assert result.returncode == 0, result.stderr
    assert deploy.deploy_calls() == [deploy.expected_run_deploy("--allow-unauthenticated")]


def test_a_flag_wins_over_its_environment_variable(deploy, small_model_dir):
    result = deploy(*required(small_model_dir), "--target=functions", TARGET="run", REGION="us-east1")
    assert result.returncode == 0, result.stderr
    assert deploy.deploy_calls() == [deploy.expected_functions_deploy()]


def test_dry_run_prints_each_command_shell_quoted_and_runs_none(deploy, small_model_dir):
    result = deploy(*required(small_model_dir), "--bucket", "gs://pytest-page", "--dry-run")
    assert result.returncode == 0, result.stderr
    printed = [shlex.split(line) for line in result.stdout.splitlines()]
    assert printed[0] == ["gcloud", *deploy.expected_functions_deploy()]
    assert [p[:3] for p in printed[1:]] == [
        ["gcloud", "functions", "describe"],
        ["gcloud", "storage", "rsync"],
        ["gcloud", "storage", "cp"],
    ]
    assert deploy.calls() == [["auth", "list", "--filter=status:ACTIVE", "--format=value(account)"]]
    assert (deploy.stage / "main.py").is_file()  # staged anyway, to be inspected


def test_service_settings_reach_the_function_through_its_env_vars_file(deploy, small_model_dir):
    result = deploy(
        *required(small_model_dir),
        MAX_BATCH="200",
        MAX_BODY_BYTES="65536",
        ALLOWED_ORIGINS="https://a.example,https://b.example",
    )
    assert result.returncode == 0, result.stderr
    assert env_file(deploy.env_file) == {
        "MAX_BATCH": "200",
        "MAX_BODY_BYTES": "65536",
        "ALLOWED_ORIGINS": "https://a.example,https://b.example",
        **PLATFORM_ENV,
    }


def test_deploy_passes_through_every_setting_the_function_reads():
    # Shell cannot import the settings' names: this holds deploy.sh's list equal to them.
    body = re.search(r"service_env_names\(\) \{.*?for name in (.*?); do", DEPLOY.read_text(), re.S)
    passed = set(body.group(1).replace("\\\n", " ").split())
    assert passed == set(ENV_NAMES) - STAGED_SETTINGS


def test_api_keys_go_into_the_env_file_and_are_never_printed(deploy, small_model_dir):
    secret = "k-3f9a-never-print-me"
    for extra in ((), ("--dry-run",)):
        result = deploy(*required(small_model_dir), *extra, API_KEYS=f"{secret},second-key")
        assert result.returncode == 0, result.stderr
        assert secret not in result.stdout + result.stderr
        assert secret not in json.dumps(deploy.calls())
        assert env_file(deploy.env_file)["API_KEYS"] == f"{secret},second-key"
        assert oct(deploy.env_file.stat().st_mode & 0o777) == "0o600"


def test_an_api_keys_secret_is_mounted_from_secret_manager(deploy, small_model_dir):
    result = deploy(*required(small_model_dir), API_KEYS_SECRET="soundness-api-keys")
    assert result.returncode == 0, result.stderr
    (call,) = deploy.deploy_calls()
    assert "--set-secrets=API_KEYS=soundness-api-keys:latest" in call
    assert "API_KEYS" not in env_file(deploy.env_file)


def test_the_dart_key_is_mounted_from_secret_manager_beside_the_api_keys(deploy, small_model_dir):
    result = deploy(
        *required(small_model_dir),
        API_KEYS_SECRET="soundness-api-keys:3",
        DART_API_KEY_SECRET="opendart-key",
        DART_TIMEOUT="5",
    )
    assert result.returncode == 0, result.stderr
    (call,) = deploy.deploy_calls()
    assert "--set-secrets=API_KEYS=soundness-api-keys:3,DART_API_KEY=opendart-key:latest" in call
    assert env_file(deploy.env_file) == {"DART_TIMEOUT": "5", **PLATFORM_ENV}


@pytest.mark.parametrize("target", ["functions", "run"])
def test_a_secret_dropped_from_the_configuration_is_removed_not_kept(deploy, small_model_dir, target):
    # gcloud keeps a service's secrets when a deploy names none: each deploy says them all.
    first = deploy(*required(small_model_dir), "--target", target, API_KEYS_SECRET="keys", DART_API_KEY_SECRET="dart")
    assert first.returncode == 0, first.stderr
    second = deploy(*required(small_model_dir), "--target", target, DART_API_KEY_SECRET="dart")
    assert second.returncode == 0, second.stderr
    third = deploy(*required(small_model_dir), "--target", target)
    assert third.returncode == 0, third.stderr
    secrets = [[a for a in call if "secrets" in a] for call in deploy.deploy_calls()]
    assert secrets == [
        ["--set-secrets=API_KEYS=keys:latest,DART_API_KEY=dart:latest"],
        ["--set-secrets=DART_API_KEY=dart:latest"],  # replaces all: API_KEYS is no longer mounted
        ["--clear-secrets"],
    ]


def test_log_lines_name_their_trace_in_the_deployed_project(deploy, small_model_dir):
    result = deploy(*required(small_model_dir))
    assert result.returncode == 0, result.stderr
    assert env_file(deploy.env_file)["GOOGLE_CLOUD_PROJECT"] == PROJECT


def test_one_file_names_the_deployed_python():
    assert re.fullmatch(r"3\.1[2-9]", PYTHON_VERSION), "a Python with years of support left (3.11 ends 2027-10)"
    # deploy.sh derives its runtime (python312) from PYTHON_VERSION; cloudbuild.yaml's image is checked
    # against it in test_cloud_build_tests_before_it_deploys; no other file names a runtime.
    assert not re.search(r"python3\d\d|python3\.1\d", DEPLOY.read_text())
    assert re.findall(r"python:3\.\d+", (ROOT / "cloudbuild.yaml").read_text()) == [f"python:{PYTHON_VERSION}"]


def test_a_dart_key_given_directly_goes_into_the_env_file_and_is_never_printed(deploy, small_model_dir):
    key = "dart-0123456789abcdef-never-print-me"
    result = deploy(*required(small_model_dir), DART_API_KEY=key, DART_API_URL="https://dart.example/api")
    assert result.returncode == 0, result.stderr
    assert key not in result.stdout + result.stderr + json.dumps(deploy.calls())
    assert env_file(deploy.env_file)["DART_API_KEY"] == key
    assert not any(arg.startswith("--set-secrets") for arg in deploy.deploy_calls()[0])


def test_with_a_bucket_the_page_is_published_pointing_at_the_deployed_url(deploy, small_model_dir):
    result = deploy(
        *required(small_model_dir),
        "--bucket",
        "pytest-page",
        "--allow-unauthenticated",
        ALLOWED_ORIGINS="https://a.example",
    )
    assert result.returncode == 0, result.stderr
    site = str(deploy.site)
    assert deploy.calls()[1:] == [
        deploy.expected_functions_deploy("--allow-unauthenticated"),
        [
            "functions",
            "describe",
            deploy.name,
            f"--project={PROJECT}",
            "--gen2",
            f"--region={REGION}",
            "--format=value(serviceConfig.uri)",
        ],
        [
            "storage",
            "rsync",
            site,
            "gs://pytest-page",
            f"--project={PROJECT}",
            "--recursive",
            "--checksums-only",
            "--delete-unmatched-destination-objects",
            "--exclude=^config\\.js$",
            "--cache-control=public,max-age=300",
        ],
        [
            "storage",
            "cp",
            f"{site}/config.js",
            "gs://pytest-page/config.js",
            f"--project={PROJECT}",
            "--cache-control=no-cache",
        ],
    ]
    config = (deploy.site / "config.js").read_text()
    assert f'window.SOUNDNESS_CONFIG = {{apiBase: "{FAKE_URL}"}};' in config.splitlines()
    assert tree(deploy.site).keys() == tree(ROOT / "frontend").keys()
    assert env_file(deploy.env_file)["ALLOWED_ORIGINS"] == "https://a.example,https://storage.googleapis.com"


def test_the_run_target_reads_its_url_from_the_cloud_run_service(deploy, small_model_dir):
    result = deploy(*required(small_model_dir), "--target", "run", "--bucket", "pytest-page")
    assert result.returncode == 0, result.stderr
    assert [
        "run",
        "services",
        "describe",
        deploy.name,
        f"--project={PROJECT}",
        f"--region={REGION}",
        "--format=value(status.url)",
    ] in deploy.calls()
    assert "--allow-unauthenticated" in result.stderr  # warns: a browser cannot call a private service


def test_a_failed_deploy_publishes_nothing(deploy, small_model_dir):
    result = deploy(*required(small_model_dir), "--bucket", "pytest-page", FAKE_GCLOUD_FAIL="functions deploy")
    assert result.returncode != 0
    assert [call[:2] for call in deploy.calls()] == [["auth", "list"], ["functions", "deploy"]]


# ---------------------------------------------------------------- the BigQuery service


def test_bigquery_deploys_a_separate_iam_only_service_with_the_route_on(deploy, small_model_dir):
    result = deploy(*required(small_model_dir), "--bigquery", MAX_BATCH="500")
    assert result.returncode == 0, result.stderr
    bigquery = Deploy(f"{deploy.name}-bigquery", deploy.log)
    assert deploy.deploy_calls() == [bigquery.expected_functions_deploy("--no-allow-unauthenticated")]
    settings = env_file(bigquery.env_file)
    assert (settings["BIGQUERY_ROUTE"], settings["MAX_BATCH"]) == ("on", "500") and "API_KEYS" not in settings
    assert not deploy.stage.exists()  # the public service's folder is not touched


def test_bigquery_can_come_from_the_environment_and_target_cloud_run(deploy, small_model_dir):
    result = deploy(*required(small_model_dir), "--target", "run", BIGQUERY="true")
    assert result.returncode == 0, result.stderr
    bigquery = Deploy(f"{deploy.name}-bigquery", deploy.log)
    assert deploy.deploy_calls() == [bigquery.expected_run_deploy("--no-allow-unauthenticated")]


BIGQUERY_REFUSALS = {
    "public": (["--allow-unauthenticated"], {}, "drop --allow-unauthenticated"),
    "public from the environment": ([], {"ALLOW_UNAUTHENTICATED": "true"}, "drop --allow-unauthenticated"),
    "with a page": (["--bucket", "pytest-page"], {}, "drop --bucket"),
    "with api keys": ([], {"API_KEYS": "k1"}, "takes no API keys"),
    "with an api keys secret": ([], {"API_KEYS_SECRET": "keys"}, "takes no API keys"),
}


@pytest.mark.parametrize("case", BIGQUERY_REFUSALS)
def test_the_bigquery_service_is_never_public_nor_keyed(deploy, small_model_dir, case):
    args, env, message = BIGQUERY_REFUSALS[case]
    result = deploy(*required(small_model_dir), "--bigquery", *args, **env)
    assert result.returncode == 2 and message in result.stderr
    assert deploy.calls() == []


def test_the_route_cannot_be_switched_on_without_bigquery(deploy, small_model_dir):
    result = deploy(*required(small_model_dir), "--allow-unauthenticated", BIGQUERY_ROUTE="on")
    assert result.returncode == 2 and "set by --bigquery" in result.stderr
    assert deploy.calls() == []


# ---------------------------------------------------------------- bucket names


@pytest.mark.parametrize(
    "bucket",
    [
        "abc",
        "my-project_page",
        "gs://my-page/",
        "a" * 63,
        "www.example.com",
        ".".join(["a" * 63] * 3) + "." + "b" * 30,
        "1.2.3.four",
    ],
)
def test_a_bucket_name_cloud_storage_accepts_is_published_to(deploy, small_model_dir, bucket):
    result = deploy(*required(small_model_dir), "--allow-unauthenticated", "--bucket", bucket, "--dry-run")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "bucket, problem",
    [
        ("ab", "3 to 63 characters"),
        ("a" * 64, "3 to 63 characters"),
        (".".join(["a" * 63] * 3) + "." + "b" * 31, "3 to 222 characters"),
        ("a" * 64 + ".com", "at most 63 characters"),
        ("My-Page", "lowercase"),
        ("page!", "lowercase"),
        ("page name", "lowercase"),
        ("-page", "start and end"),
        ("page_", "start and end"),
        ("page.", "start and end"),
        ("goog-page", "'goog'"),
        ("my-google-page", "'google'"),
        ("my-g00gle-page", "'google'"),
        ("192.168.5.4", "IP address"),
    ],
)
def test_a_bucket_name_cloud_storage_would_refuse_stops_everything(deploy, small_model_dir, bucket, problem):
    result = deploy(*required(small_model_dir), "--allow-unauthenticated", "--bucket", bucket)
    assert result.returncode == 2
    assert "not a bucket name Cloud Storage accepts" in result.stderr and problem in result.stderr
    assert deploy.calls() == [] and not deploy.stage.exists()


# ---------------------------------------------------------------- refusing early


def path_without_gcloud(tmp_path: Path) -> str:
    """A PATH with every program of this one except gcloud."""
    bin_dir = tmp_path / "bin-without-gcloud"
    bin_dir.mkdir()
    for directory in BASE_PATH.split(os.pathsep):
        if not os.path.isdir(directory):
            continue
        for entry in os.scandir(directory):
            link = bin_dir / entry.name
            if entry.name != "gcloud" and not link.exists() and os.access(entry.path, os.X_OK):
                link.symlink_to(entry.path)
    return str(bin_dir)


def tampered(model: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "tampered-model"
    shutil.copytree(model, copy)
    with open(copy / "model.safetensors", "ab") as handle:
        handle.write(b"\0")
    return copy


REFUSALS = {
    "no gcloud on PATH": (lambda m, t: dict(args=required(m), path=path_without_gcloud(t)), "gcloud is not on PATH"),
    "no active account": (lambda m, t: dict(args=required(m), FAKE_GCLOUD_ACCOUNT=""), "no active account"),
    "no project": (lambda m, t: dict(args=["--region", REGION, "--model", str(m)]), "no project"),
    "no region": (lambda m, t: dict(args=["--project", PROJECT, "--model", str(m)]), "no region"),
    "bad target": (lambda m, t: dict(args=[*required(m), "--target", "lambda"]), "--target must be"),
    "model without manifest": (lambda m, t: dict(args=required(t)), "no manifest.json in"),
    "tampered model file": (
        lambda m, t: dict(args=required(tampered(m, t))),
        "model.safetensors does not match its sha256",
    ),
    "bad service setting": (lambda m, t: dict(args=required(m), MAX_BATCH="0"), "MAX_BATCH must be a positive"),
    "unknown option": (lambda m, t: dict(args=[*required(m), "--regoin", "x"]), "unknown argument '--regoin'"),
    "dart key twice": (
        lambda m, t: dict(args=required(m), DART_API_KEY="k", DART_API_KEY_SECRET="s"),
        "set DART_API_KEY or DART_API_KEY_SECRET, not both",
    ),
    "bad dart url": (lambda m, t: dict(args=required(m), DART_API_URL="ftp://x"), "DART_API_URL must be"),
}


@pytest.mark.parametrize("case", REFUSALS)
def test_each_missing_precondition_stops_before_any_deploy_with_its_reason(deploy, small_model_dir, tmp_path, case):
    make, message = REFUSALS[case]
    options = make(small_model_dir, tmp_path)
    result = deploy(*options.pop("args"), **options)
    assert result.returncode != 0
    assert message in result.stderr
    assert deploy.deploy_calls() == []
    assert "Traceback" not in result.stderr


def test_help_documents_every_setting(deploy):
    result = deploy("--help")
    assert result.returncode == 0
    for name in (
        "PROJECT",
        "GOOGLE_CLOUD_PROJECT",
        "REGION",
        "NAME",
        "BUCKET",
        "MODEL_DIR",
        "TARGET",
        "ALLOW_UNAUTHENTICATED",
        "DRY_RUN",
        "MAX_BATCH",
        "MAX_BODY_BYTES",
        "ALLOWED_ORIGINS",
        "API_KEYS",
        "API_KEYS_SECRET",
        "MEMORY",
        "CONCURRENCY",
        "MIN_INSTANCES",
        "MAX_INSTANCES",
        "CLIENT_TIMEOUT_SECONDS",
        "DART_API_KEY",
        "DART_API_KEY_SECRET",
        "DART_API_URL",
        "DART_TIMEOUT",
        "DART_CACHE_SIZE",
        "BIGQUERY",
    ):
        assert re.search(rf"\b{name}\b", result.stdout), name
    assert deploy.calls() == []


def test_the_checks_deploy_runs_need_only_pythons_standard_library(small_model_dir):
    # The Cloud SDK image deploy.sh runs in has python3 but no torch, numpy or flask.
    code = (
        "import sys; from pathlib import Path; from soundness.artifacts import verified_manifest; "
        "from soundness_api.config import Settings; verified_manifest(Path(sys.argv[1])); Settings.from_env({}); "
        "print(sorted(m for m in ('torch', 'numpy', 'sklearn', 'joblib', 'flask') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-S", "-c", code, str(small_model_dir)],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": f"{ROOT / 'function'}:{ROOT / 'src'}", "PATH": os.environ["PATH"]},
        timeout=60,
    )
    assert (result.returncode, result.stdout.strip()) == (0, "[]"), result.stderr


# ---------------------------------------------------------------- the staged folder


def test_staging_twice_gives_the_same_tree(deploy, small_model_dir):
    assert deploy(*required(small_model_dir)).returncode == 0
    first = tree(deploy.stage)
    (deploy.stage / "leftover.txt").write_text("from an earlier run")
    assert deploy(*required(small_model_dir)).returncode == 0
    assert tree(deploy.stage) == first


def test_the_staged_folder_holds_only_what_the_function_needs(deploy, small_model_dir):
    assert deploy(*required(small_model_dir), "--dry-run").returncode == 0
    files = tree(deploy.stage)
    assert {name.split("/")[0] for name in files} == {
        "main.py",
        "requirements.txt",
        "soundness_api",
        "soundness",
        "model",
        "frontend",
    }
    assert sorted(n for n in files if n.startswith("model/")) == ["model/manifest.json", "model/model.safetensors"]
    assert {n for n in files if n.startswith("soundness/")} == {
        f"soundness/{p.name}" for p in (ROOT / "src" / "soundness").glob("*.py")
    }
    assert {n for n in files if n.startswith("soundness_api/")} == {
        f"soundness_api/{p.name}" for p in (ROOT / "src" / "soundness_api").glob("*.py")
    }
    assert not [n for n in files if n.endswith(".pyc") or "__pycache__" in n or "test" in n or "training" in n]
    assert files["model/model.safetensors"] == tree(small_model_dir)["model.safetensors"]


def test_the_staged_requirements_pin_every_runtime_package_and_no_training_stack(deploy, small_model_dir):
    assert deploy(*required(small_model_dir), "--dry-run").returncode == 0
    packages = [
        line
        for line in (deploy.stage / "requirements.txt").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert all(re.fullmatch(r"[A-Za-z0-9._-]+==\S+", line) for line in packages), packages
    names = {line.split("==")[0].lower() for line in packages}
    assert {"functions-framework", "numpy", "safetensors"} <= names
    assert not names & {"torch", "scikit-learn", "scipy", "joblib", "pandas"}
    assert packages == [
        line
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]


@pytest.mark.server
def test_the_staged_folder_serves_a_prediction_on_its_own(deploy, served_model_dir, legacy_example, start_server):
    assert deploy(*required(served_model_dir), "--dry-run").returncode == 0
    imported = subprocess.run(
        [sys.executable, "-c", "import soundness; print(soundness.__file__)"],
        cwd=deploy.stage,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert Path(imported).is_relative_to(deploy.stage)
    server = start_server(source=deploy.stage / "main.py", cwd=deploy.stage, env={"PYTHONDONTWRITEBYTECODE": "1"})
    status, body, _ = post_json(server.url + "/predict", {"companies": [legacy_example["statement"]]})
    assert status == 200, body
    staged = json.loads((deploy.stage / "model" / "manifest.json").read_text())["model"]
    assert body["model"] == {"name": staged["name"], "version": staged["version"]}
    (prediction,) = body["predictions"]
    assert prediction["class"] in ("sound", "unsound") and 0 <= prediction["probability_unsound"] <= 1


# ---------------------------------------------------------------- Cloud Build and uploads


def cloudbuild() -> dict:
    return yaml.safe_load((ROOT / "cloudbuild.yaml").read_text())


def strings_in(value) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings_in(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings_in(v)]
    return [value] if isinstance(value, str) else []


def test_cloud_build_tests_before_it_deploys():
    steps = cloudbuild()["steps"]
    assert [step["id"] for step in steps] == ["test", "deploy"]
    assert steps[0]["name"] == f"python:{PYTHON_VERSION}-bookworm" and [steps[0]["entrypoint"], *steps[0]["args"]] == [
        "make",
        "test",
    ]
    assert steps[1].get("waitFor", ["test"]) == ["test"]  # after the tests, never beside them
    assert "cloud-sdk" in steps[1]["name"]
    assert "./deploy.sh" in steps[1]["args"]


def test_cloud_build_calls_only_scripts_that_exist_and_are_executable():
    called = [
        arg
        for step in cloudbuild()["steps"]
        for arg in [step.get("entrypoint", ""), *step["args"]]
        if arg.startswith("./")
    ]
    assert called
    for script in called:
        assert os.access(ROOT / script, os.X_OK), f"{script} is missing or not executable"
    assert "test:" in (ROOT / "Makefile").read_text()


def test_cloud_build_uses_only_declared_substitutions_and_project_id():
    config = cloudbuild()
    used = {
        m.group(1) or m.group(2)
        for text in strings_in(config["steps"])
        for m in re.finditer(r"\$\{(\w+)\}|\$(\w+)", text)
    }
    declared = set(config["substitutions"])
    assert used - declared == {"PROJECT_ID"}  # no trigger-only ones such as $BRANCH_NAME
    assert declared <= used
    assert config["substitutions"]["_MODEL"] == "artifacts/default"


def test_uploads_leave_out_local_state_results_and_data():
    patterns = {
        line.strip()
        for line in (ROOT / ".gcloudignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".git/", ".venv/", "build/", "bench/results/", "__pycache__/", "*.pyc"} <= patterns
    # The build's first step runs the tests and the second needs these: none may be left out.
    for needed in ("tests/", "function/", "frontend/", "deploy.sh", "Makefile", "artifacts/", "requirements.txt"):
        assert not any(needed.rstrip("/") == p.strip("/") for p in patterns), needed


# ---------------------------------------------------------------- shell scripts

SHELL_SHEBANGS = (b"#!/usr/bin/env bash", b"#!/bin/bash", b"#!/bin/sh", b"#!/usr/bin/env sh")


def shell_scripts() -> list[Path]:
    skip = {".git", ".venv", "build", "node_modules"}
    found = []
    for path in ROOT.rglob("*"):
        if skip & set(path.relative_to(ROOT).parts) or not path.is_file():
            continue
        with open(path, "rb") as handle:
            first_line = handle.readline(64).strip()
        if path.suffix in (".sh", ".bash") or first_line in SHELL_SHEBANGS:
            found.append(path)
    return found


def test_every_shell_script_in_the_repository_passes_shellcheck():
    if shutil.which("shellcheck") is None:
        pytest.skip("shellcheck is absent (make test's system-deps installs it)")
    scripts = shell_scripts()
    assert {DEPLOY, ROOT / ".ci" / "run", FAKE_BIN / "gcloud"} <= set(scripts)
    result = subprocess.run(["shellcheck", *map(str, scripts)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout
