"""Shared fixtures: small chains keep the suite fast; calibration tests use full-size stores."""

from __future__ import annotations

import os

import pytest

SMALL = {"n_stores": 4, "employees_per_store": 8, "customers_per_store": 150}


@pytest.fixture
def small_chain() -> dict:
    """Parameters of a chain small enough to run many times in a test."""
    return dict(SMALL)


def pytest_collection_modifyitems(config, items):
    # Under CI a skip for a missing browser or package is a failure, not a pass.
    if os.environ.get("CI") == "true":
        config.option.reportchars = "fEsxX"
