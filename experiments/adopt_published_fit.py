"""Make a published fit's posterior the model's defaults, with everything that follows from
them by the rules already stated (docs/ODD.md sections 7.7 and 9).

    python experiments/adopt_published_fit.py experiments/results/published_fit_long
    python experiments/adopt_published_fit.py experiments/results/published_fit_long --check

The folder is a finished fit or a snapshot of an unfinished one (`loyalty-sim calibrate ...
--status --snapshot FOLDER`), of experiments/calibration_published_long.yaml, inside the
repository (the defaults cite it). In place, it writes:

- sim/model/parameters.py: each fitted parameter's default, its weighted posterior median to
  three significant figures;
- sim/model/sources.py: PUBLISHED_FIT and the fitted parameters' source (which generation,
  converged or not); reciprocity_strength's distribution under `uncertainty: evidence` (the
  posterior's median and weighted SD); and ENGAGEMENT_SD, the between-employee SD of
  engagement, measured on the new defaults (the test's chain, 30 stores at week 4, over
  --seeds seeds) and replaced only when the value in place is outside the measure's 95% CI: a
  change within seed noise would move every converted effect for nothing;
- the effects converted from published sizes by ENGAGEMENT_SD (coaching, the HR programme,
  recognition, mission and candour, and their distributions), in parameters.py, sources.py and
  docs/ODD.md's section 7.7 formulas;
- experiments/reciprocity_interaction.yaml: its fitted level of reciprocity_strength;
- the generated tables of docs/ODD.md and README.md (python -m sim.docs).

`--check` writes nothing, prints what would change, and exits 1 if anything would. The figures
measured by simulation (ODD section 7 and the validation table, KNOWN_MISSES, the README's
results) are not re-derived here: the script ends with the list of what to re-measure.
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np

from sim.cli.scripts import ScriptParser, bad_input, guarded, load_fit

SCRIPT = "experiments/adopt_published_fit.py"
ROOT = Path(__file__).resolve().parents[1]
PARAMETERS = ROOT / "sim" / "model" / "parameters.py"
SOURCES = ROOT / "sim" / "model" / "sources.py"
RECIPROCITY = ROOT / "experiments" / "reciprocity_interaction.yaml"
ODD = ROOT / "docs" / "ODD.md"
TARGETS = ROOT / "experiments" / "calibration_published_long.yaml"
# The published sizes the stated rule converts (docs/ODD.md section 7.7; sim/model/sources.py).
COACHING_D, COACHING_D_SD = 0.51, 0.15  # Jones et al. 2016; spread Theeboom et al. 2014
HR_G, HR_G_SD = 0.29, (0.46 - 0.12) / 3.92  # Knight et al. 2017, SD from the 95% CI
POOLED_D, POOLED_D_SD = 0.24, 0.12  # Virga et al. 2021; SD three times the meta-analytic SE
POOLED = ("recognition_effect", "mission_effect", "candour_effect")
REMEASURE = (
    "docs/ODD.md section 7 and the validation table: sim.studies.validation."
    "validation_table() at 10, 50 and 200 stores; its KNOWN_MISSES",
    "docs/ODD.md section 9: the posterior table (prior, median, 90% interval) and the distance "
    "of the new defaults (experiments/published_fit_check.py FOLDER --seeds 16)",
    "the issue-10 measures: experiments/reciprocity_interaction.py, erosion_contrast.py, "
    "break_even.py, and the README's figures",
)


def sig(x: float, figures: int) -> float:
    return float(f"{x:.{figures}g}")


def weighted_sd(values: np.ndarray, weights: np.ndarray) -> float:
    w = weights / weights.sum()
    mean = float(np.sum(w * values))
    return math.sqrt(float(np.sum(w * (values - mean) ** 2)))


def engagement_sd(values: dict[str, float], seeds: int) -> tuple[float, float, float]:
    """Mean and 95% CI over seeds of the between-employee SD of engagement (the chain of
    tests/test_parameters.py's check)."""
    from sim.model import LoyaltyModel
    from sim.studies.stats import mean_ci

    sds = [LoyaltyModel(rng=seed, n_stores=30, **values).run(4).employees_frame()["engagement"]
           .std() for seed in range(1, seeds + 1)]
    ci = mean_ci(sds)
    return ci.mean, ci.low, ci.high


def convert(sd: float, coaching_gain: float) -> dict[str, tuple[float, float]]:
    """Each converted effect's default and distribution SD at ENGAGEMENT_SD = `sd`."""
    hr_gain = 1 - math.exp(-1)
    converted = {"coaching_effect": (sig(COACHING_D * sd / coaching_gain, 3),
                                     sig(COACHING_D_SD * sd / coaching_gain, 2)),
                 "hr_effect": (sig(HR_G * sd / hr_gain, 3), sig(HR_G_SD * sd / hr_gain, 3))}
    converted.update({name: (sig(POOLED_D * sd, 2), sig(POOLED_D_SD * sd, 2))
                      for name in POOLED})
    return converted


def set_default(text: str, name: str, value: float) -> str:
    pattern = re.compile(rf"(\n    {name}: \w+ = _p\(\s*)([-+0-9.e]+)(,)")
    if len(pattern.findall(text)) != 1:
        raise bad_input(SCRIPT, f"{PARAMETERS}: no single default of {name} to set")
    return pattern.sub(lambda m: f"{m[1]}{value!r}{m[3]}", text)


def set_uncertain(text: str, name: str, mean: float, sd: float) -> str:
    pattern = re.compile(rf'(\n    "{name}": Uncertain\(\s*)([-+0-9.e]+), ([-+0-9.e]+)(,)')
    if len(pattern.findall(text)) != 1:
        raise bad_input(SCRIPT, f"{SOURCES}: no single distribution of {name} to set")
    return pattern.sub(lambda m: f"{m[1]}{mean!r}, {sd!r}{m[4]}", text)


def replace_once(text: str, path: Path, pattern: str, new: str) -> str:
    if len(re.findall(pattern, text)) != 1:
        raise bad_input(SCRIPT, f"{path}: expected one match of {pattern!r}")
    return re.sub(pattern, lambda m: new, text)


def main() -> int:
    parser = ScriptParser(SCRIPT, __doc__)
    parser.add_argument("folder")
    parser.add_argument("--seeds", type=int, default=16, help="seeds for ENGAGEMENT_SD")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if "
                        "anything would change")
    args = parser.parse_args()
    from sim.model import rules, sources
    from sim.model.parameters import Parameters
    from sim.studies.calibration import load_targets

    fit = load_fit(SCRIPT, args.folder)
    folder = Path(args.folder).resolve()
    if fit.info.get("status") != "complete" and "snapshot" not in fit.info:
        raise bad_input(SCRIPT, f"{args.folder}: a fit still being written; allowed: a finished"
                        " fit or a snapshot (loyalty-sim calibrate ... --status --snapshot)")
    if fit.targets.fingerprint() != load_targets(TARGETS).fingerprint():
        raise bad_input(SCRIPT, f"{args.folder}: not a fit of {TARGETS.relative_to(ROOT)}")
    if not folder.is_relative_to(ROOT):
        raise bad_input(SCRIPT, f"{args.folder}: outside the repository; allowed: a folder "
                        "under experiments/results/")

    fitted = {name: sig(m, 3) for name, m in fit.median().items()}
    weights = fit.posterior["weight"].to_numpy(float)
    recip_sd = sig(weighted_sd(fit.posterior["reciprocity_strength"].to_numpy(float), weights),
                   2)
    current = Parameters()
    gain = rules.programme_gain_at_end(6, 2, current.coaching_decay)
    sd = sources.ENGAGEMENT_SD
    for _ in range(4):  # the SD depends a little on the effects it converts: to a fixed point
        converted = convert(sd, gain)
        measured, low, high = engagement_sd(
            {**fitted, **{name: v[0] for name, v in converted.items()}}, args.seeds)
        if low <= sd <= high:
            break
        sd = sig(measured, 3)
    else:
        raise bad_input(SCRIPT, f"ENGAGEMENT_SD: did not settle (last {measured:.4f}, 95% CI "
                        f"{low:.4f}-{high:.4f}); allowed: more --seeds")
    print(f"ENGAGEMENT_SD: measured {measured:.4f} (95% CI {low:.4f}-{high:.4f}, {args.seeds} "
          f"seeds) on the new defaults; {sources.ENGAGEMENT_SD} in place -> {sd}")

    params = PARAMETERS.read_text()
    for name, value in {**fitted, **{n: v[0] for n, v in converted.items()}}.items():
        params = set_default(params, name, value)
    src = SOURCES.read_text()
    relative = folder.relative_to(ROOT).as_posix()
    state = "converged" if fit.info.get("converged") else "not converged"
    src = replace_once(src, SOURCES, r'\nPUBLISHED_FIT = "[^"]*"',
                       f'\nPUBLISHED_FIT = "{relative}"')
    src = replace_once(src, SOURCES, r"generation \d+, (?:not )?converged;",
                       f"generation {fit.generation}, {state};")
    src = replace_once(src, SOURCES, r"\nENGAGEMENT_SD = [0-9.]+", f"\nENGAGEMENT_SD = {sd}")
    src = replace_once(src, SOURCES, r"x ENGAGEMENT_SD = [0-9.]+\"\)",
                       f'x ENGAGEMENT_SD = {converted["mission_effect"][0]}")')
    src = replace_once(src, SOURCES, r"weighted SD [0-9.]+ ", f"weighted SD {recip_sd} ")
    for name, (mean, spread) in converted.items():
        src = set_uncertain(src, name, mean, spread)
    src = set_uncertain(src, "reciprocity_strength", fitted["reciprocity_strength"], recip_sd)
    recip = replace_once(RECIPROCITY.read_text(), RECIPROCITY,
                         r"reciprocity_strength: \{levels: \[[0-9.]+, 0\.0\]\}",
                         f"reciprocity_strength: {{levels: [{fitted['reciprocity_strength']}"
                         ", 0.0]}")
    odd = ODD.read_text()
    old_sd, old = sources.ENGAGEMENT_SD, current
    for before, after in ((f"ENGAGEMENT_SD = {old_sd} is", f"ENGAGEMENT_SD = {sd} is"),
                          (f"0.51 · {old_sd} /", f"0.51 · {sd} /"),
                          (f"(`programme_gain_at_end`) = {old.coaching_effect} per hour",
                           f"(`programme_gain_at_end`) = {converted['coaching_effect'][0]} "
                           "per hour"),
                          (f"0.29 · {old_sd} / (1 − e⁻¹)* = {old.hr_effect}",
                           f"0.29 · {sd} / (1 − e⁻¹)* = {converted['hr_effect'][0]}"),
                          (f"0.24 · {old_sd} = {old.mission_effect}*",
                           f"0.24 · {sd} = {converted['mission_effect'][0]}*")):
        if before not in odd:
            raise bad_input(SCRIPT, f"{ODD}: section 7.7 no longer says {before!r}")
        odd = odd.replace(before, after)
    odd = replace_once(odd, ODD, r"\d+ seeds of 30 stores: [0-9.]+\)",
                       f"{args.seeds} seeds of 30 stores: {measured:.3f})")

    changes = [(path, new) for path, new in ((PARAMETERS, params), (SOURCES, src),
                                             (RECIPROCITY, recip), (ODD, odd))
               if path.read_text() != new]
    for name, value in fitted.items():
        was = getattr(current, name)
        lo, hi = fit.interval(name)
        print(f"{name}: {was} -> {value} (90% interval {lo:.3g}-{hi:.3g})")
    for name, (mean, spread) in {**converted, "reciprocity_strength": (
            fitted["reciprocity_strength"], recip_sd)}.items():
        print(f"{name}: default {getattr(current, name)} -> {mean}, distribution SD {spread}")
    for path, _ in changes:
        print(f"{'would change' if args.check else 'changed'}: {path.relative_to(ROOT)}")
    if args.check:
        return 1 if changes else 0
    for path, new in changes:  # each file whole or not at all
        tmp = path.with_name(f".{path.name}.adopting")
        tmp.write_text(new)
        os.replace(tmp, path)
    subprocess.run([sys.executable, "-m", "sim.docs"], cwd=ROOT, check=True)
    print("re-measure by simulation:\n" + "\n".join(f"- {item}" for item in REMEASURE))
    return 0


if __name__ == "__main__":
    raise SystemExit(guarded(SCRIPT, main))
