"""A real, non-editable `pip install .` into a fresh virtual environment ships the scenarios
and experiment specs: `loyalty-sim list` and `loyalty-sim run coaching_vs_hr` work from a
folder that is not the repository (issue 8, "packaged data")."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SKIP = {".git", ".venv", "results", "build", "notebooks", "tests", "benchmarks", "docs",
        "__pycache__", ".pytest_cache", ".ruff_cache", ".hypothesis"}


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("install")
    src = base / "src"
    shutil.copytree(ROOT, src, symlinks=True,
                    ignore=lambda d, names: [n for n in names if n in SKIP
                                             or n.endswith(".egg-info")])
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    # Dependencies come from this environment's site-packages (a plain path entry: its .pth
    # files, among them the editable install of this repository, are not run).
    site = Path(subprocess.run(
        [str(venv / "bin" / "python"), "-c",
         "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True).stdout.strip())
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    done = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
                           "--no-deps", "--disable-pip-version-check", str(src)],
                          capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        pytest.fail(f"pip install . failed: {done.stderr[-2000:]}")
    shutil.rmtree(src)  # the installed package must not lean on the source tree
    return venv


@pytest.mark.slow
def test_an_installed_package_lists_and_runs_its_shipped_scenarios(installed, tmp_path):
    exe = installed / "bin" / "loyalty-sim"
    where = subprocess.run([str(installed / "bin" / "python"), "-c",
                            "import sim.data, sim; print(sim.__file__)"], cwd=tmp_path,
                           capture_output=True, text=True, check=True).stdout
    assert str(installed) in where  # the installed copy, not this repository
    listed = subprocess.run([str(exe), "list"], cwd=tmp_path, capture_output=True, text=True)
    assert listed.returncode == 0, listed.stderr
    for name in ("coaching_vs_hr.yaml", "crisis.yaml", "employee_first.yaml"):
        assert name in listed.stdout
    specs = list((Path(where).parent / "data" / "experiments").glob("*.yaml"))
    assert len(specs) == len(list((ROOT / "experiments").glob("*.yaml")))
    assert not any(p.is_symlink() for p in specs)
    ran = subprocess.run([str(exe), "run", "coaching_vs_hr", "--replications", "2",
                          "--horizon", "20", "--workers", "1", "--no-progress",
                          "--out", "out"], cwd=tmp_path, capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["runs"]["finished"] == 8
    assert (tmp_path / "out" / "report.html").stat().st_size > 10_000
