"""Installed size of the function's dependencies: what the deployed requirements.txt installs."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

REQUIREMENTS = Path(__file__).resolve().parent.parent / "requirements.txt"


def directory_bytes(path: Path) -> int:
    return sum(f.lstat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def installed_mib(requirements: Path = REQUIREMENTS, timeout: float = 240) -> dict[str, object]:
    """`pip install --target` the requirements into a scratch folder and measure it, in MiB,
    with the .pyc files pip compiles (as an installed image carries them)."""
    with tempfile.TemporaryDirectory(prefix="bench-install-") as scratch:
        target = Path(scratch) / "site"
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--no-input",
                "--target",
                str(target),
                "-r",
                str(requirements),
            ],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if run.returncode != 0:
            raise RuntimeError(f"pip install --target failed: {run.stderr[-1000:]}")
        packages = {p.name: directory_bytes(p) for p in target.iterdir() if p.is_dir()}
        largest = sorted(packages.items(), key=lambda item: -item[1])[:5]
        return {
            "total_mib": directory_bytes(target) / (1 << 20),
            "largest_mib": {name: size / (1 << 20) for name, size in largest},
        }
