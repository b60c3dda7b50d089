"""The research notebooks run from top to bottom (at a small size: LOYALTY_QUICK=1) in the
kernel JupyterLab starts for them (`make lab`), say when their numbers are quick-mode numbers,
and are committed without outputs."""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
NAMES = ("01_quickstart", "02_policy_sweep", "03_sensitivity", "04_validation")
KERNEL = "loyalty-sim"  # installed into .venv by `make .venv/.installed` and `make lab`


def test_jupyterlab_runs_the_notebooks_in_the_project_s_environment():
    from jupyter_client.kernelspec import KernelSpecManager

    assert shutil.which("jupyter-lab", path=str(Path(sys.executable).parent))
    spec = KernelSpecManager().get_kernel_spec(KERNEL)  # what JupyterLab's server starts
    assert Path(spec.argv[0]).resolve() == Path(sys.executable).resolve()
    for name in NAMES:
        nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
        assert nb.metadata["kernelspec"]["name"] == KERNEL, name


def test_notebooks_are_committed_without_outputs():
    found = sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb"))
    assert found == sorted(NAMES)
    for name in NAMES:
        nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
        nbformat.validate(nb)
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, name


def execute(name: str, tmp_path: Path, monkeypatch) -> nbformat.NotebookNode:
    monkeypatch.setenv("LOYALTY_QUICK", "1")
    monkeypatch.setenv("LOYALTY_RESULTS", str(tmp_path / "sweeps"))
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel draws inline images
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    # nbclient starts the kernel through jupyter_client's KernelManager and kernel spec, as
    # JupyterLab's server does.
    NotebookClient(nb, timeout=600, kernel_name=KERNEL,
                   resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    return nb


def outputs_text(nb: nbformat.NotebookNode) -> str:
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                parts.append(out["text"])
            elif "text/plain" in out.get("data", {}):
                parts.append(out["data"]["text/plain"])
    return "\n".join(parts)


def images(nb: nbformat.NotebookNode) -> int:
    return sum("image/png" in out.get("data", {}) for cell in nb.cells
               for out in cell.get("outputs", []))


@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs(name, tmp_path, monkeypatch):
    nb = execute(name, tmp_path, monkeypatch)
    text = outputs_text(nb)
    assert "QUICK MODE (LOYALTY_QUICK=1)" in text and "numbers and figures mean nothing" in text
    assert "[quick mode: tiny chain, not a result]" in text
    assert not re.search(r"\d\.\d{7,}", text), "unrounded numbers in a table or legend"
    if name == "01_quickstart":
        assert "95% CI" in text and images(nb) >= 1
        assert "[quick mode: tiny chain, not a result] total profit over 40 weeks: $" in text
    elif name == "02_policy_sweep":
        assert images(nb) >= 2 and "4 design points" in text
        assert len(list((tmp_path / "sweeps").glob("policy_grid-*/runs/*.parquet"))) == 8
    elif name == "03_sensitivity":
        assert images(nb) >= 2 and "S1_ci95" in text
    else:
        assert "targets covered: 1, 2, 3, 4, 5, 6, 7, 8" in text
        assert "within_band" in text
