"""What made a training run: threads pinned, code and data digests, versions, the git state.

Training is deterministic on one machine kind only if nothing varies between runs: every seed
is fixed where it is used (training.recipes), and here the thread counts (torch's intra-op
pool, OpenBLAS/MKL and OpenMP through threadpoolctl, and the same through the environment for
worker processes), so sums are added in one order. The manifest's `created` records the rest.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from typing import Any

from soundness.artifacts import sha256_of

ROOT = Path(__file__).resolve().parent.parent
THREADS = 1
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
LIBRARIES = ("numpy", "scipy", "pandas", "scikit-learn", "torch", "safetensors", "threadpoolctl", "matplotlib")
# The code a score can depend on: training's modules and the model core they call.
CODE_DIRECTORIES = (ROOT / "training", ROOT / "src" / "soundness")
_threadpools: Any = None  # threadpoolctl's limits, kept alive for the process's lifetime


def pin_threads(threads: int = THREADS) -> dict[str, Any]:
    """One thread everywhere (this process and the workers it starts); what was set, for the manifest."""
    global _threadpools
    import torch
    from threadpoolctl import threadpool_info, threadpool_limits

    for name in THREAD_VARIABLES:
        os.environ[name] = str(threads)
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)
    _threadpools = threadpool_limits(limits=threads)
    return {
        "torch_intra_op": torch.get_num_threads(),
        "threadpoolctl": sorted({f"{p['user_api']}:{p['internal_api']}={p['num_threads']}" for p in threadpool_info()}),
        "environment": {name: os.environ[name] for name in THREAD_VARIABLES},
    }


def library_versions() -> dict[str, str]:
    return {"python": platform.python_version(), **{name: metadata.version(name) for name in LIBRARIES}}


def imported_code(directories: Iterable[Path] = CODE_DIRECTORIES) -> list[Path]:
    """The source files of the modules loaded from `directories`: the code this process runs
    (a module of the model core that training never imports cannot change a score)."""
    roots = [Path(d).resolve() for d in directories]
    files = {
        Path(module.__file__).resolve()
        for module in list(sys.modules.values())
        if getattr(module, "__file__", None) and str(module.__file__).endswith(".py")
    }
    return sorted(f for f in files if any(f.is_relative_to(root) for root in roots))


def code_digest(files: Iterable[Path]) -> dict[str, str]:
    """Each source file's sha256 by its path in the checkout."""
    return {str(Path(f).resolve().relative_to(ROOT)): sha256_of(f) for f in files}


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=30, check=False)
    except OSError:
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def git_state(paths: Iterable[str]) -> dict[str, Any]:
    """The last commit that changed these files (not HEAD: committing the artifact this run
    writes must not change what a rerun records), and whether they are as committed."""
    paths = list(paths)
    commit = _git("log", "-1", "--format=%H", "--", *paths)
    status = _git("status", "--porcelain", "--untracked-files=all", "--", *paths)
    return {"code_commit": commit, "code_clean": None if status is None else status == ""}


def data_files(directory: Path, files: Iterable[Path]) -> dict[str, str]:
    return {str(name): sha256_of(Path(directory) / name) for name in files}


def record(threads: dict[str, Any], data_directory: Path, files: Iterable[Path]) -> dict[str, Any]:
    """What made this run, for the manifest's `created` (call it last: it lists the code run)."""
    code = code_digest(imported_code())
    return {
        "git": git_state(code),
        "code_sha256": code,
        "platform": f"{platform.python_implementation()} {platform.machine()} {sys.platform}",
        "libraries": library_versions(),
        "threads": threads,
        "data_sha256": data_files(data_directory, files),
    }
