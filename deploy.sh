#!/usr/bin/env bash
# Deploy the prediction function to Google Cloud (Cloud Run functions or a Cloud Run service),
# and optionally publish the web page to a Cloud Storage bucket. ./deploy.sh --help says how.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
STORAGE_ORIGIN="https://storage.googleapis.com"
# The deployed Python, named here only: Cloud Build's test image (cloudbuild.yaml) is held to it
# by tests/deploy. Not a .python-version file: pyenv would then switch every checkout's python3.
PYTHON_VERSION="3.12"
RUNTIME="python${PYTHON_VERSION/./}"
ENTRY_POINT="predict"
CPU="1"
TIMEOUT="60s"
# Cloud Run's startup probe: the instance takes traffic once GET /ready has loaded the model
# (a few milliseconds), polled every second for up to 30 s; a model that cannot be served
# keeps /ready at 503, so the new revision never takes traffic and the deploy fails loudly.
STARTUP_PROBE="httpGet.path=/ready,periodSeconds=1,timeoutSeconds=1,failureThreshold=30"
# Packages that must never reach the deployed function: training and importing only.
TRAINING_ONLY="torch scikit-learn scipy joblib pandas threadpoolctl"

usage() {
  cat <<'EOF'
Usage: ./deploy.sh --project P --region R [options]

Stages a self-contained function folder in build/deploy/<name>/ (main.py, the api and
soundness packages, the model as model/, the page as frontend/, requirements.txt with every package
pinned: numpy, safetensors and functions-framework, no torch), deploys it, and with --bucket
publishes the page to gs://<bucket>.

Options (each also read from the environment variable in brackets; a flag wins):
  --project P               Google Cloud project [PROJECT, else GOOGLE_CLOUD_PROJECT]   required
  --region R                region, e.g. europe-west1 [REGION]                           required
  --name N                  function / service name [NAME]                   default: soundness
  --model DIR               model artifact directory [MODEL_DIR]    default: artifacts/default
  --target functions|run    Cloud Run functions (gcloud functions deploy --gen2) or a Cloud
                            Run service built from source (gcloud run deploy --function)
                            [TARGET]                                         default: functions
  --bucket B                also publish the page to gs://B, pointed at the deployed URL [BUCKET]
                            (a name Cloud Storage accepts: 3-63 lowercase letters, digits, - _ .,
                            dotted up to 222; no "goog" prefix, no "google", not an IP address)
  --bigquery                deploy the service BigQuery remote functions call instead: named
                            <name>-bigquery, POST /bigquery on (BIGQUERY_ROUTE=on), callers need
                            IAM (roles/run.invoker), no API keys, no page [BIGQUERY]
  --allow-unauthenticated   anyone may call it (needed for the page on a bucket)
  --no-allow-unauthenticated  callers need IAM (roles/run.invoker)    [ALLOW_UNAUTHENTICATED]
  --dry-run                 print the gcloud commands, one per line, and run none [DRY_RUN]
  -h, --help                this text

Service settings, passed to the deployed function as environment variables when set:
  MAX_BATCH, MAX_BODY_BYTES, ALLOWED_ORIGINS, CLIENT_TIMEOUT_SECONDS,
  API_KEYS_SECRET           Secret Manager secret holding the comma-separated API keys
                            (NAME or NAME:VERSION; mounted as API_KEYS) - preferred
  API_KEYS                  the keys themselves (written to the env-vars file, never printed)
  DART_API_KEY_SECRET       Secret Manager secret holding the OpenDART key, for filling the
                            form from DART (NAME or NAME:VERSION; mounted as DART_API_KEY) - preferred
  DART_API_KEY              the OpenDART key itself (env-vars file, never printed); without
                            either the company lookup is off
  DART_API_URL, DART_TIMEOUT, DART_CACHE_SIZE   the lookup's DART endpoint, timeout, cache size
  DART_CALLS_PER_CLIENT, DART_CALLS_PER_INSTANCE  DART calls per hour per client and per instance
Instance sizing (defaults measured for this service; see docs/deploy.md):
  MEMORY=512Mi  CONCURRENCY=16  MIN_INSTANCES=0  MAX_INSTANCES=10   (1 CPU, 60s timeout)
  --target run also gets --cpu-boost and a startup probe on /ready.

Booleans take 1/true/yes or 0/false/no. Requires gcloud with an active account and python3.
A dry run still checks all that and stages build/deploy/<name>/ (to inspect); it neither
deploys nor publishes. Running again is safe: staging starts afresh, deploys are upserts.
EOF
}

die() { printf 'deploy.sh: %s\n' "$*" >&2; exit 1; }
usage_error() { printf 'deploy.sh: %s (see ./deploy.sh --help)\n' "$*" >&2; exit 2; }
note() { printf 'deploy.sh: %s\n' "$*" >&2; }

# A command as a shell would read it back: plain words bare, anything else in single quotes.
quote() {
  local words=() arg
  for arg in "$@"; do
    if [[ "$arg" =~ ^[A-Za-z0-9_@%+=:,./-]+$ ]]; then
      words+=("$arg")
    else
      words+=("'${arg//\'/\'\\\'\'}'")
    fi
  done
  local IFS=' '
  printf '%s\n' "${words[*]}"
}

# Every gcloud command that changes something goes through here: printed, and run unless dry.
run() {
  if [[ "$DRY_RUN" == 1 ]]; then
    quote "$@"
  else
    printf '+ %s\n' "$(quote "$@")" >&2
    "$@"
  fi
}

boolean() {  # boolean NAME VALUE -> 1 or 0
  case "${2,,}" in
    1 | true | yes | on) echo 1 ;;
    0 | false | no | off | "") echo 0 ;;
    *) usage_error "$1 must be true or false, got '$2'" ;;
  esac
}

positive_int() {  # positive_int NAME VALUE [zero: 0 allowed]
  local least=1
  [[ "${3:-}" != zero ]] || least=0
  if [[ ! "$2" =~ ^[0-9]+$ ]] || ((10#$2 < least)); then
    usage_error "$1 must be a whole number of at least $least, got '$2'"
  fi
}

# ---------------------------------------------------------------- settings

PROJECT="${PROJECT:-${GOOGLE_CLOUD_PROJECT:-}}"
REGION="${REGION:-}"
NAME="${NAME:-soundness}"
BUCKET="${BUCKET:-}"
MODEL_DIR="${MODEL_DIR:-$ROOT/artifacts/default}"
TARGET="${TARGET:-functions}"
BIGQUERY="$(boolean BIGQUERY "${BIGQUERY:-}")"
ALLOW_UNAUTHENTICATED="$(boolean ALLOW_UNAUTHENTICATED "${ALLOW_UNAUTHENTICATED:-}")"
DRY_RUN="$(boolean DRY_RUN "${DRY_RUN:-}")"
MEMORY="${MEMORY:-512Mi}"
CONCURRENCY="${CONCURRENCY:-16}"
MIN_INSTANCES="${MIN_INSTANCES:-0}"
MAX_INSTANCES="${MAX_INSTANCES:-10}"
# Settings that may come from Secret Manager instead: NAME_SECRET names the secret mounted as NAME.
SECRET_SETTINGS=(API_KEYS DART_API_KEY)

parse_args() {
  local option value
  while (($#)); do
    option="$1"
    case "$option" in
      -h | --help) usage; exit 0 ;;
      --allow-unauthenticated) ALLOW_UNAUTHENTICATED=1; shift; continue ;;
      --bigquery) BIGQUERY=1; shift; continue ;;
      --no-allow-unauthenticated) ALLOW_UNAUTHENTICATED=0; shift; continue ;;
      --dry-run) DRY_RUN=1; shift; continue ;;
      --*=*) value="${option#*=}"; option="${option%%=*}"; shift ;;
      --project | --region | --name | --bucket | --model | --target)
        (($# >= 2)) || usage_error "$option needs a value"
        value="$2"; shift 2 ;;
      *) usage_error "unknown argument '$option'" ;;
    esac
    case "$option" in
      --project) PROJECT="$value" ;;
      --region) REGION="$value" ;;
      --name) NAME="$value" ;;
      --bucket) BUCKET="$value" ;;
      --model) MODEL_DIR="$value" ;;
      --target) TARGET="$value" ;;
      *) usage_error "unknown option '$option'" ;;
    esac
  done
}

validate_settings() {
  [[ -n "$PROJECT" ]] || usage_error "no project: give --project or set PROJECT"
  [[ -n "$REGION" ]] || usage_error "no region: give --region or set REGION"
  [[ "$PROJECT" =~ ^[a-z0-9.:-]+$ ]] || usage_error "'$PROJECT' is not a project id"
  [[ "$REGION" =~ ^[a-z]+-[a-z]+[0-9]+$ ]] || usage_error "'$REGION' is not a region (like europe-west1)"
  [[ -z "${BIGQUERY_ROUTE:-}" ]] || usage_error "BIGQUERY_ROUTE is set by --bigquery, which also makes the service IAM-only"
  if [[ "$BIGQUERY" == 1 ]]; then
    validate_bigquery
  fi
  # Valid both as a function and as a Cloud Run service name, and safe as a folder name.
  [[ "$NAME" =~ ^[a-z]([a-z0-9-]{0,47}[a-z0-9])?$ ]] ||
    usage_error "name '$NAME' must be lowercase letters, digits and hyphens, starting with a letter (at most 49)"
  [[ "$TARGET" == functions || "$TARGET" == run ]] ||
    usage_error "--target must be 'functions' or 'run', got '$TARGET'"
  BUCKET="${BUCKET#gs://}"
  BUCKET="${BUCKET%/}"
  local problem
  if [[ -n "$BUCKET" ]] && problem="$(bucket_problem "$BUCKET")"; then
    usage_error "'$BUCKET' is not a bucket name Cloud Storage accepts: $problem"
  fi
  [[ "$MEMORY" =~ ^[0-9]+(Mi|Gi)$ ]] || usage_error "MEMORY must look like 512Mi or 1Gi, got '$MEMORY'"
  positive_int CONCURRENCY "$CONCURRENCY"
  positive_int MIN_INSTANCES "$MIN_INSTANCES" zero
  positive_int MAX_INSTANCES "$MAX_INSTANCES"
  local name secret
  for name in "${SECRET_SETTINGS[@]}"; do
    secret="${name}_SECRET"
    if [[ -n "${!name:-}" && -n "${!secret:-}" ]]; then
      usage_error "set $name or $secret, not both"
    fi
    [[ -z "${!secret:-}" || "${!secret}" =~ ^[A-Za-z0-9_-]+(:[A-Za-z0-9]+)?$ ]] ||
      usage_error "$secret must be NAME or NAME:VERSION, got '${!secret}'"
  done
  if [[ -n "$BUCKET" && -n "${ALLOWED_ORIGINS:-}" && ",$ALLOWED_ORIGINS," != *",*,"* &&
        ",$ALLOWED_ORIGINS," != *",$STORAGE_ORIGIN,"* ]]; then
    ALLOWED_ORIGINS="$ALLOWED_ORIGINS,$STORAGE_ORIGIN"
    note "ALLOWED_ORIGINS gains $STORAGE_ORIGIN, where the bucket serves the page"
  fi
  if [[ -n "$BUCKET" && "$ALLOW_UNAUTHENTICATED" == 0 ]]; then
    note "warning: browsers send no Google identity, so the page on gs://$BUCKET can only call" \
      "the function with --allow-unauthenticated (protect it with API_KEYS_SECRET instead)"
  fi
}

# BigQuery calls with its connection's service account and cannot send X-API-Key: its service is
# a separate one that only IAM lets in, so the route never opens a way around API keys.
validate_bigquery() {
  [[ "$ALLOW_UNAUTHENTICATED" == 0 ]] ||
    usage_error "--bigquery deploys a service only IAM callers reach; drop --allow-unauthenticated"
  [[ -z "$BUCKET" ]] || usage_error "--bigquery deploys no page; drop --bucket"
  [[ -z "${API_KEYS:-}${API_KEYS_SECRET:-}" ]] ||
    usage_error "--bigquery takes no API keys: BigQuery cannot send them, IAM guards the service"
  NAME="$NAME-bigquery"
  BIGQUERY_ROUTE=on
}

# Why Cloud Storage would refuse NAME as a bucket name; succeeds (prints the reason) if it would.
bucket_problem() {
  local name="$1" part
  if [[ ! "$name" =~ ^[a-z0-9._-]+$ ]]; then
    echo "use only lowercase letters, digits, dashes, underscores and dots"
  elif [[ "$name" != *.* ]] && ((${#name} < 3 || ${#name} > 63)); then
    echo "it must be 3 to 63 characters long"
  elif ((${#name} < 3 || ${#name} > 222)); then
    echo "with dots it must be 3 to 222 characters long"
  elif [[ ! "$name" =~ ^[a-z0-9].*[a-z0-9]$ ]]; then
    echo "it must start and end with a letter or digit"
  elif [[ "$name" == goog* ]]; then
    echo "it must not begin with 'goog'"
  elif [[ "$name" =~ g[o0][o0]g[l1]e ]]; then
    echo "it must not contain 'google' or a look-alike"
  elif [[ "$name" =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
    echo "it must not be an IP address"
  else
    for part in ${name//./ }; do
      if ((${#part} > 63)); then
        echo "each dot-separated part must be at most 63 characters"
        return 0
      fi
    done
    return 1
  fi
}

# The service's own environment, as deployed: only what is set here.
service_env_names() {
  local name
  for name in MAX_BATCH MAX_BODY_BYTES ALLOWED_ORIGINS API_KEYS CLIENT_TIMEOUT_SECONDS DART_API_KEY DART_API_URL \
    DART_TIMEOUT DART_CACHE_SIZE DART_CALLS_PER_CLIENT DART_CALLS_PER_INSTANCE BIGQUERY_ROUTE; do
    [[ -n "${!name:-}" ]] && printf '%s\n' "$name"
  done
  return 0
}

# ---------------------------------------------------------------- preconditions

check_tools() {
  command -v python3 >/dev/null || die "python3 is not on PATH: it checks the model before deploying"
  command -v gcloud >/dev/null ||
    die "gcloud is not on PATH: install the Google Cloud CLI (https://cloud.google.com/sdk/docs/install)"
  local account
  account="$(gcloud auth list --filter=status:ACTIVE --format='value(account)')" ||
    die "'gcloud auth list' failed: is the Google Cloud CLI working?"
  [[ -n "$account" ]] ||
    die "gcloud has no active account: run 'gcloud auth login' (or use a service account)"
  note "deploying to project $PROJECT as ${account%%$'\n'*}"
}

# The model's manifest and sha256s, and the service settings, checked by the function's own
# code (its stdlib-only parts), so a deploy is refused for exactly what the function refuses.
# Prints the artifact's files, one per line.
check_model_and_settings() {
  [[ -d "$MODEL_DIR" ]] || die "model directory '$MODEL_DIR' does not exist"
  # Values reach python through its environment, never its argv.
  [[ ${#SERVICE_ENV[@]} == 0 ]] || export "${SERVICE_ENV[@]?}"
  PYTHONDONTWRITEBYTECODE=1 PYTHONPATH="$ROOT/src" python3 - "$MODEL_DIR" "${SERVICE_ENV[@]}" <<'PY'
import os, sys
from pathlib import Path

from soundness.artifacts import MANIFEST, ArtifactError, verified_manifest
from soundness_api.config import ConfigError, Settings

try:
    Settings.from_env({name: os.environ[name] for name in sys.argv[2:]})
except ConfigError as exc:
    sys.exit(f"deploy.sh: {exc}")
try:
    manifest = verified_manifest(Path(sys.argv[1]))
except ArtifactError as exc:
    sys.exit(f"deploy.sh: refusing to deploy model directory '{sys.argv[1]}': {exc}")
print(MANIFEST)
print("\n".join(sorted(manifest["files"])))
PY
}

# ---------------------------------------------------------------- staging

# The repository's runtime requirements, every line name==version, none of the training stack.
write_requirements() {
  local line
  printf '%s\n' "# Written by deploy.sh from requirements.txt: the runtime only, every package pinned."
  while IFS= read -r line || [[ -n "$line" ]]; do
    line="${line%%#*}"
    line="${line//[[:space:]]/}"
    [[ -z "$line" ]] && continue
    [[ "$line" =~ ^([A-Za-z0-9._-]+)==([A-Za-z0-9.]+)$ ]] ||
      die "requirements.txt: '$line' is not pinned as name==version"
    [[ " $TRAINING_ONLY " != *" ${BASH_REMATCH[1],,} "* ]] ||
      die "requirements.txt: ${BASH_REMATCH[1]} is for training only and must not be deployed"
    printf '%s\n' "$line"
  done <"$ROOT/requirements.txt"
}

# YAML for --env-vars-file: it keeps commas in values intact and secrets off the command line.
write_env_file() {
  local name value
  for name in "$@"; do
    value="${!name//\\/\\\\}"
    printf '%s: "%s"\n' "$name" "${value//\"/\\\"}"
  done
}

stage_function() {
  local file
  rm -rf "$STAGE" "$ENV_FILE"
  mkdir -p "$STAGE/model"
  cp "$ROOT/function/main.py" "$STAGE/"
  cp -R "$ROOT/src/soundness_api" "$STAGE/soundness_api"
  cp -R "$ROOT/src/soundness" "$STAGE/soundness"
  cp -R "$ROOT/frontend" "$STAGE/frontend"
  for file in "${MODEL_FILES[@]}"; do
    cp "$MODEL_DIR/$file" "$STAGE/model/$file"
  done
  find "$STAGE" \( -name __pycache__ -o -name '*.pyc' \) -prune -exec rm -rf {} +
  write_requirements >"$STAGE/requirements.txt"
  # FUNCTION_USE_ASGI: functions-framework's CLI reads it as --asgi, so the platform serves the
  # function on uvicorn's event loop (see docs/serving.md). GOOGLE_CLOUD_PROJECT: log lines name
  # their trace as projects/PROJECT/traces/ID, the form Cloud Logging correlates.
  (umask 077 && {
    write_env_file "${SERVICE_ENV[@]}"
    printf 'FUNCTION_USE_ASGI: "true"\nGOOGLE_CLOUD_PROJECT: "%s"\n' "$PROJECT"
  } >"$ENV_FILE")
  note "staged $STAGE (and its environment in $ENV_FILE)"
}

stage_site() {  # stage_site URL
  local config="$SITE/config.js"
  [[ "$1" =~ ^https://[A-Za-z0-9.-]+(/[A-Za-z0-9._~/-]*)?$ ]] ||
    die "the deployed URL '$1' does not look like an https URL"
  rm -rf "$SITE"
  cp -R "$ROOT/frontend" "$SITE"
  grep -q '^window\.SOUNDNESS_CONFIG = ' "$config" ||
    die "frontend/config.js has no 'window.SOUNDNESS_CONFIG = ...' line to point at the API"
  sed -i "s#^window\.SOUNDNESS_CONFIG = .*#window.SOUNDNESS_CONFIG = {apiBase: \"${1%/}\"};#" "$config"
}

# ---------------------------------------------------------------- gcloud

deploy_command() {
  local access=--no-allow-unauthenticated
  [[ "$ALLOW_UNAUTHENTICATED" == 1 ]] && access=--allow-unauthenticated
  if [[ "$TARGET" == functions ]]; then
    DEPLOY=(gcloud functions deploy "$NAME" --project="$PROJECT" --gen2 --region="$REGION"
      --runtime="$RUNTIME" --source="$STAGE" --entry-point="$ENTRY_POINT" --trigger-http)
  else
    # A Cloud Run service from source: buildpacks build it as a function of this entry point.
    # --cpu-boost: more CPU while the instance starts; the startup probe loads the model
    # before the first request arrives.
    DEPLOY=(gcloud run deploy "$NAME" --project="$PROJECT" --region="$REGION"
      --source="$STAGE" --function="$ENTRY_POINT" --base-image="$RUNTIME"
      --cpu-boost --startup-probe="$STARTUP_PROBE")
  fi
  DEPLOY+=(--memory="$MEMORY" --cpu="$CPU" --timeout="$TIMEOUT" --concurrency="$CONCURRENCY"
    --min-instances="$MIN_INSTANCES" --max-instances="$MAX_INSTANCES" --env-vars-file="$ENV_FILE")
  local name secret mounts=()
  for name in "${SECRET_SETTINGS[@]}"; do
    secret="${name}_SECRET"
    secret="${!secret:-}"
    [[ -n "$secret" ]] || continue
    [[ "$secret" == *:* ]] || secret="$secret:latest"
    mounts+=("$name=$secret")
  done
  # Exactly these secrets: --set-secrets replaces all the service had, and with none asked for,
  # --clear-secrets removes any an earlier deploy mounted (gcloud keeps them otherwise).
  if ((${#mounts[@]})); then
    local IFS=,
    DEPLOY+=(--set-secrets="${mounts[*]}")
  else
    DEPLOY+=(--clear-secrets)
  fi
  DEPLOY+=("$access" --quiet)
}

describe_url_command() {
  if [[ "$TARGET" == functions ]]; then
    DESCRIBE=(gcloud functions describe "$NAME" --project="$PROJECT" --gen2 --region="$REGION"
      --format='value(serviceConfig.uri)')
  else
    DESCRIBE=(gcloud run services describe "$NAME" --project="$PROJECT" --region="$REGION"
      --format='value(status.url)')
  fi
}

# The page as a static site: short-lived caching for the page, none for config.js, which
# names the API and changes whenever the deployed URL does.
publish_site() {
  run gcloud storage rsync "$SITE" "gs://$BUCKET" --project="$PROJECT" --recursive \
    --checksums-only --delete-unmatched-destination-objects --exclude='^config\.js$' \
    --cache-control='public,max-age=300'
  run gcloud storage cp "$SITE/config.js" "gs://$BUCKET/config.js" --project="$PROJECT" \
    --cache-control='no-cache'
}

main() {
  parse_args "$@"
  validate_settings
  STAGE="$ROOT/build/deploy/$NAME"
  ENV_FILE="$ROOT/build/deploy/$NAME.env.yaml"
  SITE="$ROOT/build/deploy/$NAME.site"
  mapfile -t SERVICE_ENV < <(service_env_names)
  local checked
  checked="$(check_model_and_settings)" || exit 1
  mapfile -t MODEL_FILES <<<"$checked"
  check_tools
  stage_function
  deploy_command
  run "${DEPLOY[@]}"
  [[ -n "$BUCKET" ]] || return 0
  describe_url_command
  local url
  if [[ "$DRY_RUN" == 1 ]]; then
    run "${DESCRIBE[@]}"
    note "dry run: the page would be staged in $SITE with config.js pointing at that URL"
  else
    url="$(run "${DESCRIBE[@]}")"
    stage_site "$url"
  fi
  publish_site
  [[ "$DRY_RUN" == 1 ]] || note "page: $STORAGE_ORIGIN/$BUCKET/index.html, calling $url"
}

main "$@"
