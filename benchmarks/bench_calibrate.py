"""Calibration benchmark: the full fit of the synthetic example chain (`make bench-calibrate`).

Prints the wall time, the chain-level posterior beside the hidden parameters the example was
generated with (90% intervals, how many cover the truth) and the correlation of each store's
estimated supervisor quality and local market with the truth. Not a test: timings vary with
the machine's load.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from sim.studies.chain import CHAIN_PARAMETERS, calibrate_chain

DATA = Path(__file__).resolve().parent.parent / "experiments" / "data"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="the small fit (--size quick)")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp()) / "example_chain"
    start = time.perf_counter()
    cal = calibrate_chain(DATA / "example_chain.csv", out=out, workers=args.workers,
                          quick=args.quick)
    seconds = time.perf_counter() - start
    hidden = yaml.safe_load((DATA / "example_chain_hidden.yaml").read_text())
    print(f"example chain, {'quick' if args.quick else 'full'} fit, {args.workers} workers: "
          f"{seconds / 60:.1f} min, {cal.info['simulations']} simulated chains, "
          f"{cal.info['generations']} generations, effective sample size {cal.info['ess']} "
          f"of {cal.targets.abc.population_size} -> {cal.folder}")
    covered = 0
    for p in CHAIN_PARAMETERS:
        low, high = cal.interval(p, 0.9)
        ok = low <= hidden[p] <= high
        covered += ok
        print(f"  {p:26s} true {hidden[p]:<8g} median {cal.median()[p]:<10.4g} "
              f"90% [{low:.4g}, {high:.4g}] {'covered' if ok else 'MISSED'}")
    print(f"  {covered} of {len(CHAIN_PARAMETERS)} true values inside the 90% intervals")
    truth = pd.read_csv(DATA / "example_chain_truth.csv")
    est = pd.read_csv(cal.folder / "stores.csv").merge(truth, on="store_id",
                                                        suffixes=("", "_true"))
    for c in ("supervisor_quality", "local_market"):
        r = np.corrcoef(est[c], est[f"{c}_true"])[0, 1]
        inside = ((est[f"{c}_q05"] <= est[f"{c}_true"])
                  & (est[f"{c}_true"] <= est[f"{c}_q95"])).mean()
        print(f"  stores' {c}: r = {r:.2f} with the truth, {inside:.0%} inside 90% intervals")


if __name__ == "__main__":
    main()
