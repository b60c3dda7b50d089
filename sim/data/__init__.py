"""The shipped scenario files and experiment specs, as package data.

`scenarios/` and `experiments/` here are links to the repository's top-level folders (where
users look for them); building the package copies their files in, so an installed
`loyalty-sim` finds them too (`SCENARIOS`, `EXPERIMENTS`).
"""

from pathlib import Path

SCENARIOS = Path(__file__).parent / "scenarios"
EXPERIMENTS = Path(__file__).parent / "experiments"
