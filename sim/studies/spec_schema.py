"""What a spec model accepts at a key, read from its pydantic classes and put in words, so
that an error message can say what is allowed where a file is wrong (`sim.studies.specfile`)."""

from __future__ import annotations

import math
import types
import typing
from collections.abc import Sequence
from typing import Any, Literal

import annotated_types
from pydantic import BaseModel


def _unwrap(annotation: Any) -> Any:
    """Strip Annotated and Optional."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return annotation
            annotation = args[0]
        else:
            return annotation


def is_model(annotation: Any) -> bool:
    """True for a pydantic model class."""
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


MAX_KEYS_LISTED = 15


def allowed_keys(model: Any, names: list[str]) -> str:
    """The keys a mapping accepts; a model with many keys may describe them instead by a
    class attribute `spec_allowed_keys`."""
    described = getattr(model, "spec_allowed_keys", None)
    if isinstance(described, str) and described:
        return described
    if not names:
        return "no other keys"
    if len(names) > MAX_KEYS_LISTED:
        return (f"keys {', '.join(names[:MAX_KEYS_LISTED])}, ... ({len(names)} in all; see "
                "the schema)")
    return "keys " + ", ".join(names)


def field_names(model: Any) -> list[str]:
    """The keys a model accepts (aliases where it has them); none for anything else."""
    if not is_model(model):
        return []
    return [f.alias or name for name, f in model.model_fields.items()]


def _step(annotation: Any, part: str | int) -> tuple[Any, Any]:
    """Annotation (and FieldInfo, if a model field) one level below `annotation`."""
    annotation = _unwrap(annotation)
    if is_model(annotation):
        for name, f in annotation.model_fields.items():
            if part in (name, f.alias):
                return f.annotation, f
        return None, None
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is dict and len(args) == 2:
        return args[1], None
    if origin in (list, tuple) and args:
        return args[0], None
    return None, None


def resolve(model: Any, loc: Sequence[str | int]) -> Any:
    """The annotation at a key path below `model` (None where the path leads nowhere)."""
    annotation = model
    for part in loc:
        annotation, _ = _step(annotation, part)
        if annotation is None:
            return None
    return _unwrap(annotation)


def field_at(model: Any, loc: Sequence[str | int]) -> Any:
    """The model field (FieldInfo) at a key path, or None."""
    annotation, field = model, None
    for part in loc:
        annotation, field = _step(annotation, part)
        if annotation is None:
            return None
    return field


def literal_choices(annotation: Any) -> list[str]:
    """The values a Literal annotation allows, as text; none for anything else."""
    if typing.get_origin(annotation) is Literal:
        return [str(a) for a in typing.get_args(annotation)]
    return []


def allowed(annotation: Any, field: Any) -> str:
    """Plain words for what a field accepts."""
    extra = getattr(field, "json_schema_extra", None)
    if isinstance(extra, dict) and extra.get("allowed"):
        return str(extra["allowed"])
    if annotation is None:
        return ""
    choices = literal_choices(annotation)
    if choices:
        return "one of " + ", ".join(f"'{c}'" for c in choices)
    if is_model(annotation):
        return "a mapping with keys " + ", ".join(field_names(annotation))
    origin = typing.get_origin(annotation)
    if origin is dict:
        return "a mapping"
    if origin in (list, tuple):
        return "a list"
    words = {int: "a whole number", float: "a number", str: "text", bool: "true or false"}
    text = words.get(annotation, getattr(annotation, "__name__", str(annotation)))
    bounds = []
    for m in getattr(field, "metadata", []) or []:
        for attr, sign in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
            value = getattr(m, attr, None)
            if value is not None and isinstance(m, annotated_types.BaseMetadata):
                bounds.append(f"{sign} {_number(value)}")
        if isinstance(m, annotated_types.MinLen) and m.min_length:
            bounds.append(f"at least {m.min_length} long")
    return text + (" " + " and ".join(bounds) if bounds else "")


def _number(value: Any) -> str:
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return str(int(value))
    return f"{value:,}" if isinstance(value, int) and abs(value) >= 10_000 else str(value)
