"""The generated tables of the documentation, rewritten by `make docs`.

Each table is written between its markers from the one declaration in `sim.model`: the ODD's
parameter table (`sim.model.sources`) and reporter table (`sim.model.reporters`), and the
README's reporter table.
"""

from __future__ import annotations

from pathlib import Path

from sim.model import reporters, sources


def splice(text: str, start: str, end: str, table: str) -> str:
    """`text` with what stands between the markers `start` and `end` replaced by `table`."""
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{start}\n{table}\n{end}{tail}"


def write_odd_tables(path: str | Path = "docs/ODD.md") -> None:
    """Rewrite the ODD's parameter and reporter tables."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    text = splice(text, sources.ODD_TABLE_START, sources.ODD_TABLE_END, sources.markdown_table())
    text = splice(text, reporters.ODD_TABLE_START, reporters.ODD_TABLE_END,
                  reporters.markdown_table())
    path.write_text(text, encoding="utf-8")


def write_readme_table(path: str | Path = "README.md") -> None:
    """Rewrite the README's reporter table from `sim.model.reporters`."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    path.write_text(splice(text, reporters.ODD_TABLE_START, reporters.ODD_TABLE_END,
                           reporters.markdown_table()), encoding="utf-8")


def write_all() -> None:
    """Rewrite every generated table (run from the repository's root)."""
    write_odd_tables()
    write_readme_table()


if __name__ == "__main__":
    write_all()
