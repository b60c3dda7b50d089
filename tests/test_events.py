"""One event schema: the model's event dataclasses (sim/model/events.py) declare their fields'
bounds once; the scenario files' pydantic models are built from them and accept exactly what
the model accepts; one describer says an event in words everywhere."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from sim.model.events import Crisis, Layoff, PolicyChange, describe, parse_event
from sim.studies import specfile
from sim.studies.spec_blocks import CrisisSpec, EventSpec, LayoffSpec

EXAMPLES = [
    {"week": 26, "set": {"coaching_hours": 2.0}},
    {"week": 52, "crisis": {"duration": 12, "severity": 0.6}},
    {"week": 56, "layoff": {"share": 0.1}},
]
VALUES = st.one_of(
    st.integers(-5, 2000), st.floats(allow_nan=True, allow_infinity=True), st.booleans(),
    st.none(), st.text(max_size=4), st.sampled_from([0, 1, 0.0, 1.0, 0.5, 1e-9, 1 - 1e-9]))


@pytest.mark.parametrize("spec", EXAMPLES)
def test_the_dict_form_round_trips(spec):
    event = parse_event(spec)
    assert event.as_dict() == spec
    assert parse_event(event.as_dict()) == event
    assert EventSpec.model_validate(spec).event() == event


def test_each_event_is_said_in_words_by_one_describer():
    texts = [describe(spec) for spec in EXAMPLES]
    assert texts == ["from week 26: coaching_hours = 2.0",
                     "crisis from week 52 for 12 weeks, severity 0.6",
                     "layoff of 10% of staff at week 56"]
    assert [parse_event(spec).describe() for spec in EXAMPLES] == texts
    # Reports and the browser view word events through the same describer, with labels.
    from sim.studies.labels import event_words
    from sim.ui.store_view import _event_text as ui_text

    labelled = [event_words(spec) for spec in EXAMPLES]
    assert labelled == ["from week 26: coaching hours 2", *texts[1:]]
    assert [ui_text(spec) for spec in EXAMPLES] == labelled


def _model_accepts(event_type, week, body) -> bool:
    try:
        parse_event({"week": week, event_type.kind: body})
    except ValueError:
        return False
    return True


def _file_accepts(week, kind, body) -> bool:
    try:
        EventSpec.model_validate({"week": week, kind: body})
    except (ValidationError, specfile.SpecValueError):
        return False
    return True


@given(VALUES, VALUES)
def test_scenario_files_accept_a_crisis_exactly_when_the_model_does(duration, severity):
    body = {"duration": duration, "severity": severity}
    expected = _model_accepts(Crisis, 3, body) and (
        isinstance(duration, int) and duration <= 1040)  # the study caps weeks at 20 years
    assert _file_accepts(3, "crisis", body) == expected


@given(VALUES, VALUES)
def test_scenario_files_accept_a_layoff_and_a_week_exactly_when_the_model_does(share, week):
    body = {"share": share}
    model = _model_accepts(Layoff, 3, body)
    assert _file_accepts(3, "layoff", body) == model
    model_week = _model_accepts(Layoff, week, {"share": 0.1})
    capped = model_week and isinstance(week, int) and week <= 1040
    assert _file_accepts(week, "layoff", {"share": 0.1}) == capped


def test_the_files_say_what_is_allowed_in_the_models_words():
    for event_type, spec in ((Crisis, CrisisSpec), (Layoff, LayoffSpec)):
        for f in dataclasses.fields(event_type):
            if f.name == "week":
                continue
            extra = spec.model_fields[f.name].json_schema_extra
            assert extra["allowed"] == f.metadata["allowed"]
    week = next(f for f in dataclasses.fields(PolicyChange) if f.name == "week")
    assert EventSpec.model_fields["week"].json_schema_extra["allowed"] == week.metadata["allowed"]


@pytest.mark.parametrize(("spec", "message"), [
    ({"week": 4, "crisis": {"duration": 0, "severity": 0.5}},
     "crisis duration = 0 is not allowed: expected a whole number of weeks >= 1"),
    ({"week": 4, "crisis": {"duration": 2, "severity": float("nan")}},
     "crisis severity = nan is not allowed: expected a number >= 0 and <= 1"),
    ({"week": 4, "layoff": {"share": 1.0}},
     "layoff share = 1.0 is not allowed: expected a number > 0 and < 1 (share of staff)"),
    ({"week": True, "layoff": {"share": 0.2}},
     "event week = True is not allowed: expected a whole number of weeks >= 0"),
    ({"week": 4, "crisis": {"duration": 2}}, "missing 1 required"),
])
def test_the_model_names_the_field_the_value_and_what_is_allowed(spec, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_event(spec)
