"""Load a YAML spec file and validate it with pydantic, reporting any problem as ONE line.

Used by scenario files (`sim.studies.scenario`) and sweep specs. Every problem, whatever its cause
(unreadable file, bad YAML, unknown key, wrong type, value out of range, a rule broken across
keys), becomes a `SpecError` whose message reads

    FILE:LINE: key 'a.b.c': <problem>; allowed: <what is allowed>; did you mean 'x'?

Validators in spec models raise `SpecValueError` to name the exact key and what is allowed;
otherwise what is allowed is read from the model's classes (`sim.studies.spec_schema`).
"""

from __future__ import annotations

import difflib
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from sim.studies import spec_schema

MAX_FILE_BYTES = 1_000_000
# No parameter needs a number written with more characters than this (and Python refuses to
# read integers of more than 4,300 digits).
MAX_NUMBER_CHARS = 100
# Anchors and aliases let a small file stand for a huge tree; spec files never need that many.
MAX_NODES = 100_000
_SHOWN_VALUE_CHARS = 40


class SpecError(Exception):
    """A spec file cannot be used; `str(err)` is the one-line message for the user."""


class SpecValueError(ValueError):
    """Raised by a spec model's validator to point at a key below the validated object.

    Args:
        problem: what is wrong, e.g. "3 is not allowed" or "unknown arm".
        key: path below the validated object ("events", 0, "week"); empty for the object itself.
        allowed: plain words for what is allowed.
        choices: names the value should be one of; gives the "did you mean" hint.
        value: the offending value, for the hint.
    """

    def __init__(self, problem: str, *, key: Sequence[str | int] = (), allowed: str = "",
                 choices: Sequence[str] = (), value: Any = None):
        super().__init__(problem)
        self.problem = problem
        self.key = tuple(key)
        self.allowed = allowed
        self.choices = tuple(choices)
        self.value = value


@dataclass(frozen=True)
class Problem:
    """One problem found in a spec file, already located."""

    line: int
    key: tuple[str | int, ...]
    problem: str
    allowed: str = ""
    suggestion: str = ""
    missing: bool = False  # a required key is absent (often the echo of a typo elsewhere)

    def message(self, file: str | Path) -> str:
        """The whole line: FILE:LINE: key 'a.b': problem; allowed: ...; did you mean 'x'?"""
        return one_line(f"{file}:{self.line}: {self.text()}")

    def text(self) -> str:
        """The message without its location."""
        text = ""
        if self.key:
            text += f"key '{dotted(self.key)}': "
        text += self.problem
        if self.allowed:
            text += f"; allowed: {self.allowed}"
        if self.suggestion:
            text += f"; did you mean '{self.suggestion}'?"
        return one_line(text)


def dotted(key: Sequence[str | int]) -> str:
    return ".".join(str(k) for k in key)


def one_line(text: str) -> str:
    """Collapse whitespace so that a message is always a single line."""
    return " ".join(str(text).split())


def show_value(value: Any) -> str:
    """A short repr of a user's value (huge numbers and long strings are cut)."""
    text = repr(value)
    if len(text) > _SHOWN_VALUE_CHARS:
        text = text[: _SHOWN_VALUE_CHARS - 3] + "..."
    return one_line(text)


def suggest(word: Any, choices: Sequence[str]) -> str:
    """The closest of `choices` to `word`, or '' when none is close."""
    if not isinstance(word, str) or not choices:
        return ""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return close[0] if close else ""


# ---------------------------------------------------------------------------------- loading
@dataclass
class SpecDocument:
    """A parsed YAML file: its data (from yaml.safe_load) and where each key sits."""

    path: Path
    data: Any
    root: yaml.Node | None

    def line_of(self, key: Sequence[str | int]) -> int:
        """1-based line of the deepest part of `key` present in the file."""
        node = self.root
        if node is None:
            return 1
        line = node.start_mark.line + 1
        for part in key:
            found = None
            if isinstance(node, yaml.MappingNode):
                for k_node, v_node in node.value:
                    if isinstance(k_node, yaml.ScalarNode) and k_node.value == str(part):
                        found, line = v_node, k_node.start_mark.line + 1
                        break
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
                if 0 <= part < len(node.value):
                    found = node.value[part]
                    line = found.start_mark.line + 1
            if found is None:
                break
            node = found
        return line


def read_limited(path: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file of at most `limit` bytes; raise SpecError otherwise.

    Only regular files are read (a FIFO, a device such as /dev/zero or a folder is refused
    without reading), and never more than `limit + 1` bytes, whatever the file claims."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise SpecError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise SpecError(f"{path}: is a folder, expected a YAML file") from None
    except OSError as err:
        raise SpecError(one_line(f"{path}: cannot be read ({err.strerror or err})")) from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise SpecError(f"{path}: is a folder, expected a YAML file")
        if not stat.S_ISREG(info.st_mode):
            raise SpecError(f"{path}: is not a regular file (a pipe, device or socket); "
                            "allowed: a YAML file")
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, limit + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as err:
        raise SpecError(one_line(f"{path}: cannot be read ({err.strerror or err})")) from None
    finally:
        os.close(fd)
    if size > limit:
        raise SpecError(f"{path}: is more than {limit:,} bytes; allowed: a spec file of at "
                        f"most {limit:,} bytes")
    return b"".join(chunks)


class _Located(Exception):
    """A value YAML could not construct, with its node (for the line and the key)."""

    def __init__(self, node: yaml.Node, err: BaseException):
        super().__init__(str(err))
        self.node, self.err = node, err


class _Loader(yaml.SafeLoader):
    """SafeLoader that ties any failure to build a value to that value's node."""

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        if isinstance(node, yaml.ScalarNode) and len(node.value) > MAX_NUMBER_CHARS and (
                node.tag.endswith((":int", ":float"))):
            raise _Located(node, ValueError(f"a number of {len(node.value):,} characters"))
        try:
            return super().construct_object(node, deep=deep)
        except (_Located, RecursionError):
            raise
        except Exception as err:  # ValueError, KeyError, IndexError, AttributeError, ...
            raise _Located(node, err) from None


def _key_of(root: yaml.Node, target: yaml.Node) -> tuple[str | int, ...]:
    """The key path from the document's root to `target` (empty if not found)."""
    stack: list[tuple[yaml.Node, tuple[str | int, ...]]] = [(root, ())]
    seen: set[int] = set()
    while stack:
        node, key = stack.pop()
        if node is target:
            return key
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            for k_node, v_node in node.value:
                name = k_node.value if isinstance(k_node, yaml.ScalarNode) else "?"
                stack += [(k_node, (*key, name)), (v_node, (*key, name))]
        elif isinstance(node, yaml.SequenceNode):
            stack += [(v, (*key, i)) for i, v in enumerate(node.value)]
    return ()


def _tag_words(tag: str) -> str:
    kind = tag.rsplit(":", 1)[-1]
    return {"int": "a whole number", "float": "a number", "bool": "true or false",
            "timestamp": "a date", "null": "nothing (null)"}.get(kind, f"a value of type {kind}")


def load_yaml(path: str | Path) -> SpecDocument:
    """Read and parse a YAML file; raise SpecError (one line) if it cannot be used."""
    path = Path(path)
    raw = read_limited(path)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise SpecError(f"{path}: is not a UTF-8 text file (byte {err.start} cannot be "
                        "decoded); allowed: a YAML text file") from None
    root = None
    try:
        loader = _Loader(text)
        try:
            root = loader.get_single_node()
            if root is not None:
                _check_tree(path, root)
            data = loader.construct_document(root) if root is not None else None
        finally:
            loader.dispose()
    except SpecError:
        raise
    except _Located as err:
        node = err.node
        key = _key_of(root, node) if root is not None else ()
        where = f"key '{dotted(key)}': " if key else ""
        shown = show_value(node.value) if isinstance(node, yaml.ScalarNode) else "the value"
        words = _tag_words(node.tag)
        if words not in _EXAMPLES:
            raise SpecError(one_line(
                f"{path}:{node.start_mark.line + 1}: {where}the tag "
                f"{show_value(node.tag.replace('tag:yaml.org,2002:', '!!'))} is "
                "not allowed; allowed: plain values (numbers, text, true/false, lists and "
                "mappings) without !! tags")) from None
        reason = (one_line(str(err.err)) if isinstance(err.err, ValueError)
                  and not isinstance(err.err, yaml.YAMLError) else "")
        if "digits" in reason or "characters" in reason:
            reason = "too long"
        raise SpecError(one_line(
            f"{path}:{node.start_mark.line + 1}: {where}{shown} cannot be read as {words}"
            f"{f' ({reason})' if reason else ''}; allowed: {words} written plainly (e.g. "
            f"{_EXAMPLES.get(words, 'no !! tag')}), or text in quotes")) from None
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark is not None else 1
        what = one_line(err.problem or err.context or "cannot be parsed")
        raise SpecError(f"{path}:{line}: not valid YAML: {what}") from None
    except yaml.YAMLError as err:
        raise SpecError(one_line(f"{path}:1: not valid YAML: {err}")) from None
    except RecursionError:
        raise SpecError(f"{path}:1: not valid here: nested too deeply") from None
    except (ValueError, TypeError, OverflowError) as err:
        raise SpecError(one_line(f"{path}:1: not valid YAML: {err}")) from None
    return SpecDocument(path=path, data=data, root=root)


_EXAMPLES = {"a whole number": "42", "a number": "0.5", "true or false": "true",
             "a date": "2024-05-31"}


def _check_tree(path: Path, root: yaml.Node) -> None:
    """Reject duplicate keys (YAML silently keeps the last) and alias bombs."""
    count = 0
    stack = [root]
    while stack:
        node = stack.pop()
        count += 1
        if count > MAX_NODES:
            raise SpecError(f"{path}:1: the file expands to more than {MAX_NODES:,} values; "
                            "allowed: a smaller spec (fewer anchors and aliases)")
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for k_node, v_node in node.value:
                if isinstance(k_node, yaml.ScalarNode) and k_node.value != "<<":
                    if k_node.value in seen:
                        raise SpecError(one_line(
                            f"{path}:{k_node.start_mark.line + 1}: key '{k_node.value}': "
                            "appears twice in the same mapping; allowed: each key once"))
                    seen.add(k_node.value)
                stack.extend((k_node, v_node))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)


# ------------------------------------------------------------------------------- validation
def validate(model: type[BaseModel], doc: SpecDocument, data: Any = None,
             context: dict | None = None) -> Any:
    """Validate `data` (default: the document's data) with a pydantic model.

    Raises SpecError with one line for the first problem in file order.
    """
    data = doc.data if data is None else data
    if not isinstance(data, dict):
        keys = ", ".join(spec_schema.field_names(model))
        what = "the file is empty" if data is None else f"the file holds {_kind(data)}"
        raise SpecError(f"{doc.path}:1: {what}; allowed: a mapping with keys {keys}")
    try:
        return model.model_validate(data, context=context)
    except ValidationError as err:
        problems = [describe_error(model, doc, e) for e in err.errors()]
        # A typo gives "unknown key" where it is and "missing" for the key meant: show the typo.
        first = min(problems, key=lambda p: (p.missing, p.line))
        raise SpecError(first.message(doc.path)) from None
    except SpecValueError as err:  # raised outside pydantic's wrapping
        raise SpecError(_from_spec_value_error(doc, (), err).message(doc.path)) from None
    except RecursionError:
        raise SpecError(f"{doc.path}:1: not valid here: nested too deeply") from None
    except (ArithmeticError, TypeError, ValueError, LookupError) as err:
        # A safety net: a check that failed in an unforeseen way still gives one line.
        raise SpecError(one_line(f"{doc.path}:1: cannot be used ({type(err).__name__}: "
                                 f"{show_value(str(err))})")) from None


def describe_error(model: type[BaseModel], doc: SpecDocument, error: dict) -> Problem:
    """Turn one pydantic error into a located Problem with what is allowed."""
    loc = tuple(part for part in error["loc"] if part != "[key]")
    kind = error["type"]
    cause = (error.get("ctx") or {}).get("error")
    if isinstance(cause, SpecValueError):
        return _from_spec_value_error(doc, loc, cause)
    if kind == "extra_forbidden":
        parent = spec_schema.resolve(model, loc[:-1])
        names = spec_schema.field_names(parent) if spec_schema.is_model(parent) else []
        return Problem(doc.line_of(loc), loc, "unknown key",
                       spec_schema.allowed_keys(parent, names), suggest(loc[-1], names))
    target = spec_schema.resolve(model, loc)
    field = spec_schema.field_at(model, loc)
    allowed = spec_schema.allowed(target, field)
    if kind == "missing":
        return Problem(doc.line_of(loc), loc, "is missing (required)", allowed, missing=True)
    if "[key]" in error["loc"]:
        return Problem(doc.line_of(loc), loc, f"the name {show_value(error['input'])} is not "
                       "allowed", "text names")
    if isinstance(cause, ValueError):
        return Problem(doc.line_of(loc), loc, one_line(str(cause)), allowed)
    problem = f"{show_value(error['input'])} is not allowed"
    choices = spec_schema.literal_choices(target)
    return Problem(doc.line_of(loc), loc, problem, allowed, suggest(error["input"], choices))


def _from_spec_value_error(doc: SpecDocument, loc: tuple, err: SpecValueError) -> Problem:
    key = loc + err.key
    return Problem(doc.line_of(key), key, err.problem, err.allowed,
                   suggest(err.value, err.choices))


def _kind(data: Any) -> str:
    if isinstance(data, list):
        return "a list"
    if isinstance(data, str):
        return "plain text"
    return f"a single value ({show_value(data)})"
