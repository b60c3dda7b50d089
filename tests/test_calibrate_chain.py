"""Your own chain: the CSV's checks (one line naming file, row and column; nothing written),
and recovery of a synthetic chain's stores at a size the suite affords."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.studies.chain import (
    CHAIN_PARAMETERS,
    ChainDataError,
    calibrate_chain,
    forecast_next_year,
    per_store,
    read_chain_csv,
    synthetic_chain,
)

GOOD = pd.DataFrame({
    "store_id": [f"S{i}" for i in range(6)],
    "headcount": [12, 15, 9, 20, 14, 11],
    "customers": [800, 1000, 600, 1400, 900, 700],
    "employee_engagement": [0.55, 0.6, 0.5, 0.58, 0.52, 0.61],
    "customer_engagement": [0.5, 0.55, 0.45, 0.52, 0.49, 0.6],
    "turnover_pct": [45, 38, 70, 50, 55, 30],
    "churn_pct": [22, 20, 30, 25, 24, 18],
    "revenue": [9e5, 1.2e6, 6e5, 1.6e6, 1e6, 8.5e5],
    "region": ["N", "S", "E", "W", "N", "S"],
})


def write(tmp_path, df, name="chain.csv"):
    path = tmp_path / name
    df.to_csv(path, index=False)
    return path


def test_a_good_file_is_read_and_extra_columns_are_noted(tmp_path):
    data = read_chain_csv(write(tmp_path, GOOD))
    assert len(data.stores) == 6 and data.ignored == ["region"] and data.quarters == 0
    assert data.revenue_per_customer["S1"] == pytest.approx(1200)


def test_retention_may_replace_churn(tmp_path):
    df = GOOD.drop(columns="churn_pct").assign(retention_pct=[78, 80, 70, 75, 76, 82])
    data = read_chain_csv(write(tmp_path, df))
    assert data.stores["churn_pct"].tolist() == [22, 20, 30, 25, 24, 18]


def test_quarterly_rows_are_averaged_and_revenue_annualised(tmp_path):
    df = pd.concat([GOOD.assign(quarter=q, revenue=GOOD["revenue"] / 4) for q in (1, 2)])
    data = read_chain_csv(write(tmp_path, df))
    assert data.quarters == 2
    assert data.stores.loc["S0", "revenue"] == pytest.approx(9e5)


def _bad(df_change):
    df = GOOD.copy().astype(object)
    return df_change(df)


@pytest.mark.parametrize("change, expected", [
    (lambda d: d.drop(columns="turnover_pct"), "row 1: column 'turnover_pct' is missing"),
    (lambda d: d.assign(revenue=["9e5", "lots", 1, 1, 1, 1]),
     "row 3, column 'revenue': 'lots' is not a number"),
    (lambda d: d.assign(employee_engagement=[0.5, 0.5, 55, 0.5, 0.5, 0.5]),
     "row 4, column 'employee_engagement': 55 is outside 0-1"),
    (lambda d: d.assign(churn_pct=[22, 20, 30, -5, 24, 18]),
     "row 5, column 'churn_pct': -5 is outside 0-500"),
    (lambda d: d.assign(store_id=["A", "B", "C", "D", "B", "F"]),
     "row 6, column 'store_id': duplicate store id 'B'"),
    (lambda d: d.head(4), "has 4 stores; allowed: at least 5"),
    (lambda d: d.assign(customer_engagement=[0.5, "", 0.5, 0.5, 0.5, 0.5]),
     "row 3, column 'customer_engagement': '' is not a number"),
])
def test_bad_data_gives_one_line_naming_file_row_and_column(tmp_path, change, expected):
    path = write(tmp_path, change(GOOD.copy().astype(object)))
    with pytest.raises(ChainDataError) as err:
        read_chain_csv(path)
    message = str(err.value)
    assert "\n" not in message and message.startswith(str(path))
    assert expected in message


def test_cli_bad_chain_is_one_line_exit_2_and_writes_nothing(tmp_path):
    path = write(tmp_path, GOOD.drop(columns="customers"))
    result = CliRunner().invoke(app, ["calibrate", "--stores", str(path), "--out",
                                      str(tmp_path / "out")])
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "column 'customers' is missing" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chain.csv"]


HIDDEN = {"n_stores": 30, "customers_per_store": 400, "employees_per_store": 10,
          "supervisor_quality_mean": 0.55, "supervisor_quality_sd": 0.15, "expectation": 0.73,
          "local_market_spread": 0.04, "annual_quit_rate": 0.45, "annual_churn_rate": 0.2,
          "basket": 70.0}


def test_recovery_of_a_synthetic_30_store_chain(tmp_path):
    """Reduced size (12 particles, 2 generations): the stores' supervisor quality is
    recovered with r >= 0.8; the chain-level intervals are wide at this size and cover the
    truth (the report gives the coverage of full-size fits)."""
    rows, truth = synthetic_chain(HIDDEN, seed=11, years=2)
    path = write(tmp_path, rows[rows["quarter"] <= 4])  # year 1 only
    cal = calibrate_chain(path, out=tmp_path / "fit", workers=1, progress=False, quick=True,
                          abc={"population_size": 12, "generations": 2,
                               "predictive_draws": 2}, store_draws=2)
    stores = pd.read_csv(cal.folder / "stores.csv").merge(
        truth, on="store_id", suffixes=("", "_true"))
    r = np.corrcoef(stores["supervisor_quality"], stores["supervisor_quality_true"])[0, 1]
    assert r >= 0.8
    covered = [cal.interval(p, 0.9)[0] <= HIDDEN[p] <= cal.interval(p, 0.9)[1]
               for p in CHAIN_PARAMETERS]
    assert sum(covered) >= len(covered) // 2 + 1
    chain = (cal.folder / "chain.yaml").read_text()
    assert "supervisor_quality_q05" in chain and chain.count("- id: S") == 30
    # Out of sample: next year's figures forecast from year 1 (their accuracy against a naive
    # forecast needs a full-size fit: see the report's figures).
    year1 = per_store(rows[rows["quarter"] <= 4])
    forecast = forecast_next_year(year1, cal, draws=1, chains_per_draw=1)
    assert list(forecast.index) == list(year1["store_id"])
    assert np.isfinite(forecast.to_numpy()).all() and (forecast["revenue"] > 0).all()


def test_the_forecast_study_compares_model_and_naive_and_reruns_identically(tmp_path):
    """`experiments/chain_forecast.py` at a tiny size: one row per chain with the model's and
    the naive forecast's errors; a rerun reuses the kept fit and gives the same table."""
    root = Path(__file__).resolve().parent.parent
    args = [sys.executable, str(root / "experiments" / "chain_forecast.py"), "--seeds", "3",
            "--workers", "1", "--particles", "8", "--generations", "1", "--draws", "1",
            "--chains", "1", "--out", str(tmp_path / "f")]
    first = subprocess.run(args, capture_output=True, text=True, timeout=600, cwd=root)
    assert first.returncode == 0, first.stderr
    table = pd.read_csv(tmp_path / "f" / "forecast.csv")
    assert list(table["seed"]) == [3]
    for k in ("revenue", "turnover_pct", "churn_pct"):
        assert (table[f"{k}_naive"] > 0).all() and (table[f"{k}_model"] > 0).all()
        assert np.allclose(table[f"{k}_ratio"], table[f"{k}_model"] / table[f"{k}_naive"])
        assert k in first.stdout.split("ratio model / naive")[1]
    assert (tmp_path / "f" / "seed-3" / "fit" / "chain.yaml").is_file()
    again = subprocess.run(args, capture_output=True, text=True, timeout=600, cwd=root)
    assert again.returncode == 0, again.stderr
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "f" / "forecast.csv"), table)
