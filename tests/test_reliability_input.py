"""Bad input never crashes the loader (issue 9): a fixed corpus of the issue's nasty cases and
a hypothesis fuzz over scenario files and sweep specs. Every problem is one line on stderr
naming the file (and its line and key when there is one), exit code 2, no traceback, and
nothing written."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from sim.cli import app
from sim.studies.scenario import load_scenario
from sim.studies.specfile import SpecError
from sim.studies.sweep_spec import load_spec

SCENARIO = {
    "name": "tiny", "question": "Does coaching help?", "horizon_weeks": 10,
    "replications": 1, "seed": 5,
    "parameters": {"n_stores": 2, "employees_per_store": 4, "customers_per_store": 50},
    "arms": {"baseline": {}, "coaching": {"events": [
        {"week": 2, "set": {"coaching_hours": 2.0}}]}},
}
SPEC = {
    "name": "grid", "question": "How does coaching pay?", "horizon_weeks": 10,
    "replications": 1, "seed": 5,
    "parameters": {"n_stores": 2, "employees_per_store": 4, "customers_per_store": 50},
    "factors": {"coaching_hours": {"levels": [0.0, 2.0]}}, "outcomes": ["profit"],
}
# (dotted key, raw YAML text put in place of its value)
PLACES = ["seed", "horizon_weeks", "replications", "parameters.n_stores",
          "parameters.customers_per_store", "parameters.hr_budget", "parameters.basket"]
NASTY = ["!!bool maybe", "!!int ''", "!!int '-'", "!!float ''", "!!timestamp abc",
         "2024-13-45", "!!int abc", "9" * 400, "9" * 5000, "1e308", "-1e308", ".nan", ".inf",
         "1e300", "100000", "!!python/object/apply:os.system ['true']", "!!binary aGVsbG8=",
         "[[[[[[[[[[1]]]]]]]]]]", "{a: 1}", "~", "''", "0x_", "!!set {a}", "&x [*x]",
         "\"\\udc80\"", "!!str 3", "10_000_000_000"]
RAW = [
    b"", b"\x00\x01\x02", b"\xff\xfe", b"a: [" * 2000, b"[" * 100_000,
    b"a: &a [1,1,1,1,1,1,1,1,1]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,"
    b"*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
    b"f: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n",
    b"name: a\nname: b\n", b"- 1\n- 2\n", b"just text", b"{a: !!python/name:os.system }",
    b"x" * 1_000_001,
]


def _text(base: dict, key: str, raw: str) -> str:
    """The YAML of `base` with the value at `key` written as `raw` (no quoting)."""
    data = yaml.safe_load(yaml.safe_dump(base))
    node = data
    parts = key.split(".")
    for p in parts[:-1]:
        node = node[p]
    node[parts[-1]] = "@@VALUE@@"
    return yaml.safe_dump(data, sort_keys=False).replace("'@@VALUE@@'", raw)


def _commands(path: Path, out: Path, kind: str) -> list[list[str]]:
    if kind == "scenario":
        return [["validate", str(path)],
                ["run", str(path), "--out", str(out), "--workers", "1", "--no-progress"]]
    return [["sweep", str(path), "--out", str(out), "--workers", "1", "--no-progress"]]


def _check_refused(path: Path, kind: str) -> None:
    out = path.parent / "out"
    for args in _commands(path, out, kind):
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 2, (args, result.exit_code, result.output,
                                       result.exception)
        assert "Traceback" not in result.output
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith(str(path)), lines[0]
        assert not out.exists()
    assert {p.name for p in path.parent.iterdir()} == {path.name}


def _valid(path: Path, kind: str) -> bool:
    try:
        (load_scenario if kind == "scenario" else load_spec)(path)
    except SpecError:
        return False
    return True


@pytest.mark.parametrize("kind", ["scenario", "sweep"])
@pytest.mark.parametrize("raw", NASTY)
def test_nasty_values_are_one_line_errors(tmp_path, raw, kind):
    refused = 0
    for key in PLACES:
        path = tmp_path / key / "f.yaml"
        path.parent.mkdir()
        path.write_text(_text(SCENARIO if kind == "scenario" else SPEC, key, raw))
        if _valid(path, kind):
            continue  # e.g. 100000 customers per store make a valid chain
        _check_refused(path, kind)
        refused += 1
    assert refused >= 3


@pytest.mark.parametrize("kind", ["scenario", "sweep"])
@pytest.mark.parametrize("content", RAW, ids=range(len(RAW)))
def test_nasty_files_are_one_line_errors(tmp_path, content, kind):
    path = tmp_path / "f.yaml"
    path.write_bytes(content)
    _check_refused(path, kind)


@pytest.mark.parametrize("kind", ["scenario", "sweep"])
def test_big_chains_and_money_are_refused_in_scenarios_and_sweeps(tmp_path, kind):
    base = SCENARIO if kind == "scenario" else SPEC
    for i, change in enumerate([
            {"n_stores": 100000, "customers_per_store": 100000},
            {"hr_budget": 1e308}, {"basket": 1e308}, {"weekly_wage": 1e300}]):
        data = yaml.safe_load(yaml.safe_dump(base))
        data["parameters"].update(change)
        path = tmp_path / str(i) / "f.yaml"
        path.parent.mkdir()
        path.write_text(yaml.safe_dump(data))
        _check_refused(path, kind)
    factors = [{"customers_per_store": {"levels": [50, 10_000_000]}},
               {"customers_per_store": {"low": 50, "high": 1e12}},
               {"hr_budget": {"levels": [0.0, 1e308]}}]
    if kind == "sweep":
        for i, factor in enumerate(factors):
            data = {**SPEC, "factors": {**SPEC["factors"], **factor}}
            if "low" in next(iter(factor.values())):
                data["design"] = {"method": "lhs", "samples": 4}
            path = tmp_path / f"factor{i}" / "f.yaml"
            path.parent.mkdir()
            path.write_text(yaml.safe_dump(data))
            _check_refused(path, kind)


@pytest.mark.parametrize("kind", ["scenario", "sweep"])
def test_only_regular_files_are_read(tmp_path, kind):
    fifo = tmp_path / "f.yaml"
    os.mkfifo(fifo)  # reading a FIFO with no writer would hang forever
    _check_refused(fifo, kind)
    for special in ("/dev/zero", "/dev/null"):
        args = (["validate", special] if kind == "scenario"
                else ["sweep", special, "--out", str(tmp_path / "out")])
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 2 and "not a regular file" in result.stderr


_token = st.one_of(st.sampled_from(NASTY), st.text(max_size=12).map(repr),
                   st.integers().map(str), st.floats().map(str),
                   st.sampled_from(["!!int", "!!float", "!!bool", "!!timestamp", "!!null",
                                    "!!str", "!!seq", "!!map"]).flatmap(
                       lambda tag: st.text(max_size=6).map(lambda t: f"{tag} {t!r}")))


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(kind=st.sampled_from(["scenario", "sweep"]), key=st.sampled_from(PLACES),
       raw=_token)
def test_fuzzed_values_never_give_a_traceback(tmp_path_factory, kind, key, raw):
    path = tmp_path_factory.mktemp("fuzz") / "f.yaml"
    path.write_text(_text(SCENARIO if kind == "scenario" else SPEC, key, raw))
    try:
        (load_scenario if kind == "scenario" else load_spec)(path)
    except SpecError as err:  # anything else fails the test with its traceback
        message = str(err)
        assert "\n" not in message and message.startswith(f"{path}:"), message
