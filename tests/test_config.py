"""Configuration read at start: what is refused there, and what starts and is reported by /ready."""

import json

import pytest

from harness.server import Server
from soundness_api.config import ENV_NAMES, PLATFORM_ENV_NAMES, ConfigError, Settings


class ReadingRecorded(dict):
    """An environment that notes every name read from it."""

    def __init__(self):
        super().__init__()
        self.read: set[str] = set()

    def get(self, name, default=None):
        self.read.add(name)
        return super().get(name, default)


def test_env_names_are_exactly_the_variables_the_settings_read():
    env = ReadingRecorded()
    Settings.from_env(env)
    assert env.read == {*ENV_NAMES, *PLATFORM_ENV_NAMES}


def symlink_loop(tmp_path):
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    return tmp_path / "a"


def test_a_model_dir_that_is_a_symlink_loop_starts_and_ready_says_why(make_client, tmp_path):
    client = make_client(MODEL_DIR=symlink_loop(tmp_path))
    assert client.get("/health").status_code == 200
    ready = client.get("/ready")
    assert ready.status_code == 503
    assert ready.json()["error"]["message"].startswith(  # then when the next attempt comes (lazy_model.py)
        "model artifacts cannot be served: the model directory cannot be opened (Too many levels of symbolic links)"
        " (attempts: 1;"
    )


def test_a_frontend_dir_that_is_a_symlink_loop_starts_and_the_page_is_404(make_client, tmp_path):
    client = make_client(FRONTEND_DIR=symlink_loop(tmp_path))
    assert client.get("/health").status_code == 200
    assert client.get("/", headers={"Accept": "text/html"}).status_code == 404  # a browser's request


def test_a_manifest_nested_too_deeply_is_refused_saying_so(make_client, small_model_dir):
    manifest = json.loads((small_model_dir / "manifest.json").read_text())
    nested = json.dumps(manifest)[:-1] + ', "deep": ' + "[" * 100_000 + "]" * 100_000 + "}"
    (small_model_dir / "manifest.json").write_text(nested)
    ready = make_client(MODEL_DIR=small_model_dir).get("/ready")
    assert ready.status_code == 503
    message = ready.json()["error"]["message"]
    assert message.startswith(
        "model artifacts cannot be served: manifest.json is not valid JSON (arrays or objects "
        "nested more than about 1000 levels deep, deeper than Python's JSON reader follows) (attempts: 1;"
    )


@pytest.mark.parametrize("keys", ["good-key,ключ", "clé", "tab\tinside", "k\u00a0ey"])
def test_an_api_key_no_client_can_send_is_refused_at_start(keys):
    with pytest.raises(ConfigError, match=r"API_KEYS: key number .* outside printable ASCII"):
        Settings.from_env({"API_KEYS": keys})


def test_printable_ascii_api_keys_are_kept():
    assert Settings.from_env({"API_KEYS": " a-Key_1 , b.key~2 "}).api_keys == ("a-Key_1", "b.key~2")


@pytest.mark.server
def test_the_server_refuses_to_start_with_one_log_line_that_does_not_show_the_key():
    server = Server({"API_KEYS": "fine-key,geheim-schlüssel"})
    assert server.process.wait(timeout=60) != 0
    output = server.stop()
    refused = [line for line in server.log_lines() if line["severity"] == "CRITICAL"]
    assert [line["message"] for line in refused] == [
        "configuration refused: API_KEYS: key number 2 of 2 has a character outside printable ASCII, "
        "which no client can send in an X-API-Key header"
    ]
    assert "geheim" not in output and "fine-key" not in output and "Traceback" not in output
