"""What a results folder records about how it was made: package versions, the git commit and
a digest of the model's source."""

from __future__ import annotations

import hashlib
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

VERSIONED_PACKAGES = ("loyalty-sim", "mesa", "numpy", "pandas", "pyarrow", "scipy", "pydantic",
                      "PyYAML", "typer", "rich", "seaborn", "matplotlib", "SALib", "distributed")


def package_versions(names: tuple[str, ...] = VERSIONED_PACKAGES) -> dict[str, str | None]:
    """Python's and each package's installed version (None where it is not installed)."""
    found: dict[str, str | None] = {"python": platform.python_version()}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def git_state() -> dict[str, Any]:
    """The checkout's commit and whether tracked files differ from it (None outside git)."""
    root = Path(__file__).resolve().parents[2]
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"],
                                capture_output=True, text=True, timeout=10, check=True)
        status = subprocess.run(["git", "-C", str(root), "status", "--porcelain",
                                 "--untracked-files=no"], capture_output=True, text=True,
                                timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}
    return {"commit": commit.stdout.strip(), "dirty": bool(status.stdout.strip())}


def source_digest() -> str:
    """SHA-256 of the `sim` package's Python source (each file's path and bytes, in path
    order): names the code that ran even outside a git checkout (an installed package, a
    copy), and two runs with the same digest ran the same model."""
    package = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def code_state() -> dict[str, Any]:
    """The git commit (None outside git), whether tracked files differ from it, and the
    source digest."""
    return {**git_state(), "source_sha256": source_digest()}
