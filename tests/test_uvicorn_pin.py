"""soundness_api/connection.py subclasses uvicorn's H11Protocol, overriding its methods and reading
its private state: it holds only for the uvicorn it was written against. Moving uvicorn fails here
until connection.py is read against the new one and says so (connection.UVICORN_VERSION)."""

import inspect
import re
from pathlib import Path

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from soundness_api.connection import UVICORN_VERSION, EdgeProtocol

ROOT = Path(__file__).resolve().parent.parent


def test_the_installed_and_pinned_uvicorn_is_the_one_connection_py_was_written_against():
    pinned = re.search(r"^uvicorn==(\S+)$", (ROOT / "requirements.txt").read_text(), re.MULTILINE)
    assert uvicorn.__version__ == UVICORN_VERSION
    assert pinned and pinned.group(1) == UVICORN_VERSION


def test_every_method_connection_py_overrides_is_uvicorns_with_the_same_parameters():
    overridden = [
        name
        for name, member in vars(EdgeProtocol).items()
        if callable(member) and not name.startswith("__") and hasattr(H11Protocol, name)
    ]
    assert len(overridden) >= 7, overridden
    for name in overridden:
        ours, theirs = inspect.signature(getattr(EdgeProtocol, name)), inspect.signature(getattr(H11Protocol, name))
        assert list(ours.parameters) == list(theirs.parameters), name


def test_the_private_state_connection_py_reads_is_set_by_uvicorns_protocol():
    ours = inspect.getsource(EdgeProtocol)
    theirs = set(re.findall(r"self\.(\w+)(?:: [^=]+)? =", inspect.getsource(H11Protocol)))
    read = {"conn", "cycle", "transport", "loop"}
    assert read <= set(re.findall(r"self\.(\w+)", ours))
    assert read <= theirs
