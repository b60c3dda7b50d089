"""docs/ODD.md stays true to the code: its parameter table is the one the code declares, and it
names every rule, reporter and service policy the model uses. The README's reporter table is the
generated one too."""

from __future__ import annotations

import inspect
from pathlib import Path

from sim.docs import splice
from sim.model import MODEL_REPORTERS, SERVICE_POLICY_SPECS, SPIN_UP_WEEKS, reporters, rules
from sim.model.sources import ODD_TABLE_END, ODD_TABLE_START, markdown_table

ODD = (Path(__file__).resolve().parent.parent / "docs" / "ODD.md").read_text(encoding="utf-8")
README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_parameter_table_is_the_generated_one():
    table = ODD.split(ODD_TABLE_START, 1)[1].split(ODD_TABLE_END, 1)[0].strip()
    assert table == markdown_table(), "run `make docs` to regenerate it"


def test_every_rule_function_is_described():
    names = [n for n, f in inspect.getmembers(rules, inspect.isfunction)
             if f.__module__ == rules.__name__]
    described = [n for n in names if n in ODD]
    # Rules with a formula in the text are named after their function in sim/model/rules.py.
    for name in ("work_pressure", "drift_standard", "attachment_step", "coaching_impulse",
                 "hr_impulse", "room_to_grow", "programme_gain_at_end",
                 "driver_level", "effective_hours", "attachment_equilibrium"):
        assert name in described, name


def test_constants_in_the_text_match_the_code():
    for policy, spec in SERVICE_POLICY_SPECS.items():
        assert f"{spec['minutes']:g} min" in ODD, policy
        assert f"{spec['first_contact_resolution']:.2f}" in ODD, policy
    assert f"{SPIN_UP_WEEKS}" in ODD
    assert f"{rules.CUSTOMER_FULLY_ENGAGED:.2f}" in ODD
    assert f"{rules.EMPLOYEE_ENGAGED:.2f}" in ODD
    assert f"{rules.EMPLOYEE_ACTIVELY_DISENGAGED:.2f}" in ODD
    weights = (rules.QUALITY_SKILL_WEIGHT, rules.QUALITY_EMOTION_WEIGHT, rules.QUALITY_TIME_WEIGHT)
    assert "Q = clip({:.2f} k + {:.2f} D + {:.2f} α_s + ε)".format(*weights) in ODD


def test_reporters_are_listed_where_the_odd_points():
    assert "MODEL_REPORTERS" in ODD and len(MODEL_REPORTERS) > 30


def test_readme_reporter_table_is_the_generated_one():
    table = README.split(reporters.ODD_TABLE_START, 1)[1].split(reporters.ODD_TABLE_END, 1)[0]
    assert table.strip() == reporters.markdown_table(), "run `make docs` to regenerate it"
    assert all(f"| `{name}` |" in table for name in MODEL_REPORTERS)


def test_splice_replaces_only_what_stands_between_the_markers():
    text = "head\n<!-- a -->\nold\nrows\n<!-- b -->\ntail\n"
    assert splice(text, "<!-- a -->", "<!-- b -->", "new") == (
        "head\n<!-- a -->\nnew\n<!-- b -->\ntail\n")
