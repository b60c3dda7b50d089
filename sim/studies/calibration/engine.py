"""ABC-SMC (pyabc) over the model: fit a targets file's parameters, write a calibration folder.

The fit runs in a hidden working folder beside the result (`.NAME.partial/`, holding pyabc's
SQLite history), one generation at a time, so that an interrupted fit (Ctrl-C, SIGTERM, kill -9)
carries on when run again: from its last finished generation, with the particles of the
unfinished one that its journal (`journal/`) kept, so that nothing already simulated is lost.
The history is also kept as portable files (`export_history`), so the working folder can be
copied or committed without history.db and carried on elsewhere. When it ends, the posterior, the
posterior-predictive check, the diagnostics and the report are written there and the folder is
renamed into place: a calibration folder is either whole or absent.

Reproducibility: the same seed gives the same posterior whatever the number of workers, here,
on local processes or on a Dask cluster: each particle is drawn by a job with its own seed
(`sampler.SeededSampler`), and the state of the generator that draws a generation's seeds is
kept until the generation is stored (`start_generation`), so a fit stopped and carried on gives
the same posterior as one that ran through; the posterior-predictive draws use fixed seeds too.
"""

from __future__ import annotations

import json
import logging
import math
import os
import pickle
import shutil
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import yaml

from sim.studies import provenance, store
from sim.studies.calibration import convergence
from sim.studies.calibration.statistics import predictive, simulate
from sim.studies.calibration.targets import TargetsFile, load_targets, prior_bounds
from sim.studies.runner import connect

DEFAULT_ROOT = Path("results") / "calibrations"
HISTORY = "history.db"
# The history again, as portable files that a fit carried on elsewhere rebuilds history.db from
# (`export_history`, `rebuild_history`): each stored generation's accepted particles in a file
# of their own (written once, so a committed fit grows by its new generations only), and one
# row per generation.
PARTICLES = "particles"
POPULATIONS = "populations.csv"
JOURNAL = "journal"
GENERATOR = "generator.pickle"  # numpy's global state at the generation under way


class CalibrationError(Exception):
    """A calibration cannot start or its folder cannot be used; `str(err)` is one line."""


@dataclass
class Calibration:
    """A finished calibration folder, read back."""

    folder: Path
    info: dict[str, Any]
    posterior: pd.DataFrame  # one row per particle: fitted parameters and `weight`
    predictive: pd.DataFrame  # one row per posterior draw: its seed, parameters, statistics
    generations: pd.DataFrame
    targets: TargetsFile

    @property
    def parameters(self) -> list[str]:
        return list(self.targets.fit)

    @property
    def generation(self) -> int:
        """The generation the posterior comes from (the last one stored)."""
        return int(self.generations["generation"].max())

    def median(self) -> dict[str, float]:
        """Weighted posterior median of each fitted parameter."""
        return {p: weighted_quantile(self.posterior[p], self.posterior["weight"], 0.5)
                for p in self.parameters}

    def interval(self, name: str, level: float = 0.9) -> tuple[float, float]:
        """Central weighted posterior interval of a fitted parameter."""
        tail = (1 - level) / 2
        return (weighted_quantile(self.posterior[name], self.posterior["weight"], tail),
                weighted_quantile(self.posterior[name], self.posterior["weight"], 1 - tail))

    def history(self) -> Any:
        """pyabc's history of the fit (every generation's particles, distances and
        statistics), from the folder's history.db, which is made again from the folder's
        portable files if it was left behind; CalibrationError if neither is there."""
        import pyabc

        db = self.folder / HISTORY
        if not db.is_file():
            if not (self.folder / POPULATIONS).is_file():
                raise CalibrationError(f"{self.folder}: has neither {HISTORY} (pyabc's history)"
                                       f" nor {POPULATIONS}; allowed: a folder the fit wrote")
            return rebuild_history(self.folder, {k: t.observed for k, t
                                                 in self.targets.targets.items()})
        logging.getLogger("History").setLevel(logging.WARNING)
        return pyabc.History(f"sqlite:///{db.resolve()}", _id=self.info.get("abc_id", 1))

    def draws(self, n: int, seed: int) -> list[dict[str, float]]:
        """`n` parameter sets resampled from the posterior by weight (reproducible by seed)."""
        g = np.random.default_rng(seed)
        w = self.posterior["weight"].to_numpy(float)
        rows = g.choice(len(w), size=n, p=w / w.sum())
        return [{p: float(self.posterior[p].iloc[i]) for p in self.parameters} for i in rows]


def weighted_quantile(values: Any, weights: Any, q: float) -> float:
    v, w = np.asarray(values, float), np.asarray(weights, float)
    order = np.argsort(v)
    v, w = v[order], w[order]
    cdf = (np.cumsum(w) - 0.5 * w) / w.sum()
    return float(np.interp(q, cdf, v))


def default_folder(targets: TargetsFile, root: Path = DEFAULT_ROOT) -> Path:
    return root / f"{targets.name}-{targets.fingerprint()}"


def distance(x: dict, x0: dict, scales: dict[str, float]) -> float:
    """Root mean square of the targets' standardised gaps (1 = one SE off on average);
    a statistic the run could not measure (NaN) rejects the particle."""
    z = [((x[k] - x0[k]) / s) ** 2 for k, s in scales.items()]
    value = math.sqrt(sum(z) / len(z))
    return value if math.isfinite(value) else math.inf


class _Model:
    """pyabc's model: one candidate parameter set -> the simulated statistics. The run's seed
    comes from numpy's global generator, which pyabc seeds (in this process, from the fit's
    seed; in its worker processes, from the operating system)."""

    def __init__(self, targets: TargetsFile, model_kwargs: dict[str, Any]):
        self.simulation = targets.simulation
        self.names = list(targets.fit)
        self.model_kwargs = model_kwargs

    def __call__(self, parameter: Any) -> dict[str, float]:
        seed = int(np.random.randint(2**31 - 1))  # noqa: NPY002 (seeded by pyabc)
        params = {n: float(parameter[n]) for n in self.names}
        params = {n: int(round(v)) if _is_int(n) else v for n, v in params.items()}
        try:
            return simulate(params, seed, self.simulation, self.model_kwargs)
        except (ValueError, FloatingPointError, ZeroDivisionError):
            return {}


def _is_int(name: str) -> bool:
    from sim.model.parameters import parameter_fields

    return any(f.name == name and f.type in ("int", int) for f in parameter_fields())


def _prior(targets: TargetsFile) -> Any:
    import pyabc

    rvs = {}
    for name, prior in targets.fit.items():
        low, high = prior_bounds(name, prior)
        if prior.distribution == "normal":
            a, b = (low - prior.mean) / prior.sd, (high - prior.mean) / prior.sd
            rvs[name] = pyabc.RV("truncnorm", a, b, prior.mean, prior.sd)
        else:
            rvs[name] = pyabc.RV("uniform", low, high - low)
    return pyabc.Distribution(**rvs)


def _sampler(workers: int, cluster: str | None, journal: Path) -> Any:
    from sim.studies.calibration.sampler import SeededSampler

    return SeededSampler(workers, cluster, journal)


def start_generation(work: Path, t: int, seed: int, carried_on: bool) -> None:
    """Set numpy's global generator, which pyabc draws from, for generation `t`, and keep its
    state in `work`. A generation then draws the same candidates whether the fit ran through
    or was stopped and carried on, and a generation stopped part-way asks again for the
    particles its journal holds.

    In one session the generations follow one stream, seeded by the fit's seed when the fit
    starts. A generation that was started before is given its kept state again. The first
    generation of a carried-on fit with no kept state (a fit stopped between storing a
    generation and keeping the next one's state, or started before states were kept) is
    seeded from the fit's seed and its number instead.
    """
    path = work / GENERATOR
    try:
        kept_t, state = pickle.loads(path.read_bytes())
    except (OSError, pickle.UnpicklingError, EOFError, ValueError, TypeError):
        kept_t, state = None, None
    if kept_t == t:
        np.random.set_state(state)  # noqa: NPY002
    elif carried_on:
        np.random.seed(np.random.SeedSequence(seed, spawn_key=(t,)).generate_state(1)[0])  # noqa: NPY002
    store.atomic_write(path, pickle.dumps((t, np.random.get_state())))  # noqa: NPY002


def calibrate(targets: TargetsFile | str | Path, *, out: str | Path | None = None,
              workers: int | None = None, cluster: str | None = None, progress: bool = True,
              model_kwargs: dict[str, Any] | None = None, source: str | Path | None = None,
              extra_files: dict[str, bytes] | None = None) -> Calibration:
    """Fit the targets file's parameters by ABC-SMC and return the finished calibration.

    Args:
        targets: a targets file (path) or one already loaded.
        out: the calibration folder (default results/calibrations/<name>-<fingerprint>/).
            Running again after an interruption continues the fit; an existing complete
            folder of the same targets is returned as it is.
        workers: local processes (default: one per core; 1 runs in this process). The same
            seed gives the same posterior whatever this is, and on a cluster.
        cluster: a Dask scheduler's address: run on its workers instead.
        progress: show a progress bar (generation, acceptance rate, epsilon, time left).
        model_kwargs: extra model arguments for every run (e.g. a chain's stores).
        source: the file the targets came from (copied into the folder).
        extra_files: more files to write into the folder (name -> bytes).
    """
    import pyabc

    from sim.studies.calibration.epsilon import FlooredMedianEpsilon

    logging.getLogger("ABC").setLevel(logging.WARNING)  # the progress bar says it all
    if not isinstance(targets, TargetsFile):
        source = targets if source is None else source
        targets = load_targets(targets)
    folder = Path(out) if out is not None else default_folder(targets)
    if (folder / "calibration.json").is_file():
        done = load_calibration(folder)
        if done.info.get("fingerprint") == targets.fingerprint():
            return done
        raise CalibrationError(f"{folder}: holds a calibration of other targets; allowed: a "
                               "new folder (--out) or the same targets")
    if folder.exists():
        raise CalibrationError(f"{folder}: exists and is not a calibration folder; allowed: "
                               "a new folder")
    if cluster is not None:  # an unreachable cluster is refused before anything is written
        connect(cluster).close()
    work = unfinished_folder(folder)
    state_file = work / "state.json"
    workers = workers or os.cpu_count() or 1
    abc_settings = targets.abc
    scales = {k: t.scale for k, t in targets.targets.items()}
    observed = {k: t.observed for k, t in targets.targets.items()}
    sampler = _sampler(workers, cluster, work / JOURNAL)
    abc = pyabc.ABCSMC(_Model(targets, model_kwargs or {}), _prior(targets),
                       _Distance(scales), population_size=abc_settings.population_size,
                       sampler=sampler,
                       transitions=pyabc.MultivariateNormalTransition(
                           scaling=abc_settings.kernel_scaling),
                       eps=FlooredMedianEpsilon(tolerance(targets)))
    db = f"sqlite:///{(work / HISTORY).resolve()}"
    started = time.monotonic()
    sessions: list[dict] = []
    if state_file.is_file():
        state = json.loads(state_file.read_text())
        if state.get("fingerprint") != targets.fingerprint():
            raise CalibrationError(f"{work}: an unfinished calibration of other targets; "
                                   "allowed: remove that folder or use the same targets")
        # pyabc draws from numpy's global generator: `start_generation` sets it.
        if (work / HISTORY).is_file():
            abc.load(db, state["abc_id"])
        else:  # a working folder brought from elsewhere without its history.db
            state["abc_id"] = rebuild_history(work, observed).id
            abc.load(db, state["abc_id"])
        export_history(abc.history, work)
        sessions = state["sessions"]
    else:
        work.mkdir(parents=True, exist_ok=True)
        np.random.seed(abc_settings.seed)  # noqa: NPY002 (pyabc draws from the global one)
        history = abc.new(db, observed)
        state = {"fingerprint": targets.fingerprint(), "abc_id": history.id, "sessions": []}
        if source is not None:
            shutil.copyfile(source, work / "targets_source.yaml")
        _write_targets(work, targets)  # lets `load_unfinished` read the fit while it runs
        _write_json(state_file, state)
    # Which code drew which generations: a long fit may span code changes (section 9 of the
    # ODD says which, and why ABC-SMC allows them).
    session = {"started": _now(), "workers": workers, "cluster": cluster, "seconds": None,
               "stopped_because": "interrupted", "first_generation": _next_generation(abc),
               "code": provenance.code_state()}
    sessions.append(session)
    state["sessions"] = sessions
    _write_json(state_file, state)  # an interrupted session stays on record
    finished = False
    try:
        stop = _run_generations(abc, targets, progress, work, carried_on=bool(sessions[:-1]))
        finished = True
    finally:
        sampler.close(interrupted=not finished)
        # A stopped session's time stays on record too, so a long fit's total is whole.
        session["seconds"] = round(time.monotonic() - started, 1)
        _write_json(state_file, state)
    (work / GENERATOR).unlink(missing_ok=True)  # no generation is under way
    session["stopped_because"] = stop
    _write_json(state_file, state)
    _finish(abc.history, targets, work, state, workers, model_kwargs or {}, extra_files)
    work.rename(folder)
    return load_calibration(folder)


def _next_generation(abc: Any) -> int:
    """The generation a session starts drawing (0 for a new fit)."""
    return int(abc.history.max_t) + 1


class _Distance:
    """Picklable wrapper of `distance` with the targets' scales."""

    def __init__(self, scales: dict[str, float]):
        self.scales = scales

    def __call__(self, x: dict, x0: dict) -> float:
        if not all(k in x for k in self.scales):
            return math.inf
        return distance(x, x0, self.scales)


def export_history(history: Any, work: Path) -> None:
    """Write the fit's stored generations as portable files in `work` (one Parquet file of
    particles per generation in PARTICLES/, one row each in POPULATIONS), from which
    `rebuild_history` makes the same history.db again: a working folder copied without
    history.db (to another machine, or committed) then carries on as if it had it. Only the
    generations not yet written are read; each file is written whole, and a generation is
    listed in POPULATIONS only once its particles are written."""
    pops = history.get_all_populations()
    # Row -1 is pyabc's calibration sample (no particles kept): only its candidates count.
    pops = pops[(pops["t"] >= 0) | (pops["samples"] > 0)].sort_values("t")
    try:
        written = pd.read_csv(work / POPULATIONS)
    except (OSError, ValueError):
        written = pd.DataFrame({"t": []})
    if not set(written["t"]) <= set(pops["t"]):  # another history's files: write them anew
        written = pd.DataFrame({"t": []})
    new = pops[~pops["t"].isin(written["t"])]
    if new.empty:
        return
    (work / PARTICLES).mkdir(exist_ok=True)
    rows = []
    for _, pop in new.iterrows():
        t = int(pop["t"])
        if t < 0:
            rows.append({"t": t, "epsilon": float(pop["epsilon"]), "samples": int(pop["samples"]),
                         "population_end_time": pd.Timestamp(
                             pop["population_end_time"]).isoformat(), "model": ""})
            continue
        population = history.get_population(t)
        frame = pd.DataFrame({
            "weight": [p.weight for p in population.particles],
            "distance": [p.distance for p in population.particles],
            "proposal_id": [p.proposal_id for p in population.particles],
            **{f"parameter:{k}": [p.parameter[k] for p in population.particles]
               for k in population.particles[0].parameter},
            **{f"statistic:{k}": [p.sum_stat.get(k, np.nan) for p in population.particles]
               for k in population.particles[0].sum_stat}})
        # pyabc reads a generation back in the order it stored its particles (by id): the
        # rebuilt history must store them in that order to draw the same next generation.
        stored, _ = history.get_distribution(m=0, t=t)
        for name in stored.columns:
            if not np.array_equal(stored[name].to_numpy(float),
                                  frame[f"parameter:{name}"].to_numpy(float)):
                raise CalibrationError(f"{work}: generation {t} of history.db reads back in "
                                       "another order; allowed: pyabc's storage as of 0.13")
        store.atomic_parquet(work / PARTICLES / f"t{t}.parquet",
                             pa.Table.from_pandas(frame, preserve_index=False))
        rows.append({"t": t, "epsilon": float(pop["epsilon"]), "samples": int(pop["samples"]),
                     "population_end_time": pd.Timestamp(pop["population_end_time"]).isoformat(),
                     "model": history.model_names(t)[0]})
    populations = pd.DataFrame(rows) if written.empty else pd.concat(
        [written, pd.DataFrame(rows)], ignore_index=True)
    store.atomic_write(work / POPULATIONS, populations.to_csv(index=False).encode())


def rebuild_history(work: Path, observed: dict[str, float]) -> Any:
    """Make `work`'s history.db again from its portable files (`export_history`); a folder
    with none (no generation stored yet) gets a new, empty history. Returns the history."""
    import pyabc

    logging.getLogger("ABC.History").setLevel(logging.WARNING)
    try:
        pops = pd.read_csv(work / POPULATIONS) if (work / POPULATIONS).is_file() else \
            pd.DataFrame(columns=["t", "model"])
        particles = {int(t): pd.read_parquet(work / PARTICLES / f"t{int(t)}.parquet")
                     for t in pops["t"] if t >= 0}
    except (OSError, ValueError, KeyError) as err:
        raise CalibrationError(f"{work}: its {POPULATIONS} or {PARTICLES}/ cannot be read "
                               f"({err}); allowed: the files the fit wrote") from None
    # Made beside and renamed into place: a rebuild cut short leaves no partial history.db.
    tmp = work / f".{HISTORY}.tmp-{os.getpid()}"
    tmp.unlink(missing_ok=True)
    history = pyabc.History(f"sqlite:///{tmp.resolve()}")
    generations = pops[pops["t"] >= 0]
    model = str(generations["model"].iloc[0]) if len(generations) else "_Model"
    history.store_initial_data(None, {}, observed, {}, [model], "{}", "{}", "{}")
    for _, pop in pops.sort_values("t").iterrows():
        if pop["t"] < 0:  # the calibration sample's candidates count in the fit's total
            history.update_after_calibration(
                int(pop["samples"]), pd.Timestamp(pop["population_end_time"]).to_pydatetime())
            continue
        rows = particles[int(pop["t"])]
        names = [c for c in rows.columns if c.startswith("parameter:")]
        stats = [c for c in rows.columns if c.startswith("statistic:")]
        population = pyabc.Population([
            pyabc.Particle(m=0, parameter=pyabc.Parameter(
                {n.split(":", 1)[1]: float(row[n]) for n in names}),
                weight=float(row["weight"]), distance=float(row["distance"]),
                sum_stat={s.split(":", 1)[1]: float(row[s]) for s in stats},
                accepted=True, proposal_id=int(row["proposal_id"]))
            for _, row in rows.iterrows()])
        history.append_population(int(pop["t"]), float(pop["epsilon"]), population,
                                  int(pop["samples"]), [str(pop["model"])])
    abc_id = history.id
    _restore_end_times(tmp, abc_id, pops)
    # The first history is not touched after the rename: its engine would make the temporary
    # file anew (an empty database of 40 KB left beside the folder, and committed with it).
    del history
    os.replace(tmp, work / HISTORY)
    return pyabc.History(f"sqlite:///{(work / HISTORY).resolve()}", _id=abc_id)


def _restore_end_times(db: Path, abc_id: int, pops: pd.DataFrame) -> None:
    """Give the rebuilt generations their first end times (the generations' table shows them)."""
    import sqlite3

    with sqlite3.connect(db) as con:
        for _, pop in pops.iterrows():
            end = pd.Timestamp(pop["population_end_time"]).to_pydatetime()
            con.execute("UPDATE populations SET population_end_time = ? WHERE t = ? AND "
                        "abc_smc_id = ?", (end.isoformat(sep=" "), int(pop["t"]), abc_id))


def tolerance(targets: TargetsFile) -> float:
    """The floor of a fit's epsilon schedule: its targets' stated uncertainty."""
    return convergence.stated_tolerance(len(targets.targets))


def _ranges(targets: TargetsFile) -> dict[str, tuple[float, float]]:
    return {name: prior_bounds(name, prior) for name, prior in targets.fit.items()}


def _run_generations(abc: Any, targets: TargetsFile, show: bool, work: Path,
                     carried_on: bool) -> str:
    """Run pyabc one generation at a time until a stopping rule holds; return which."""
    s = targets.abc
    history = abc.history
    bar = _GenerationBar(show, s.generations)
    deadline = None if s.max_minutes is None else time.monotonic() + 60 * s.max_minutes
    ranges = _ranges(targets)
    if show:  # epsilon is set before a generation samples; the prior sample (t = -1) has none
        abc.sampler.on_particle = lambda t, drawn, n, tried: bar.particle(
            t, drawn, n, tried, float(abc.eps(t)) if t >= 0 else float("nan"))
    with bar:
        while True:
            pops = history.get_all_populations()
            pops = pops[pops["t"] >= 0]
            if len(pops) >= 2 and convergence.check(
                    convergence.generation_table(history, list(targets.fit)), ranges,
                    s.convergence, tolerance(targets))["converged"]:
                return "converged"
            if len(pops) >= s.generations:
                return "generations"
            if len(pops):
                last = pops.iloc[-1]
                rate = last["particles"] / max(last["samples"], 1)
                if last["epsilon"] <= s.min_epsilon:
                    return "min_epsilon"
                if len(pops) > 1 and rate < s.min_acceptance_rate:
                    return "min_acceptance_rate"
            if deadline is not None and time.monotonic() > deadline:
                return "max_minutes"
            walltime = None if deadline is None else timedelta(
                seconds=max(deadline - time.monotonic(), 1))
            # pyabc caches the population it calibrates epsilon on for the whole object; each
            # call must start from the last generation, not the first call's.
            abc._initial_population = None
            start_generation(work, 0 if history.max_t < 0 else history.max_t + 1, s.seed,
                             carried_on)
            carried_on = False  # from here the session's own stream goes on
            abc.run(max_nr_populations=1, minimum_epsilon=0.0,
                    **({"max_walltime": walltime} if walltime else {}))
            export_history(history, work)
            abc.sampler.forget()  # the generation is in the history now
            pops = history.get_all_populations()
            last = pops.iloc[-1]
            bar.stored(int(last["t"]), last["particles"] / max(last["samples"], 1),
                       float(last["epsilon"]), int(last["samples"]))


class _GenerationBar:
    """A rich progress bar on stderr for the generation under way (particles drawn of the
    population, the candidates they took, the acceptance rate, epsilon, time left), and a line
    for each generation stored. A generation of a long fit takes hours, so the bar moves with
    its particles rather than with whole generations. When stderr is not a terminal (a fit
    left running with its output in a log file, or on a cluster's batch queue), a live bar
    would show nothing until the end: the progress is then written as a timestamped line at
    each tenth of the population instead."""

    def __init__(self, show: bool, total: int):
        self.show, self.total = show, total
        self._bar: Any = None
        self._task: Any = None
        self._t: int | None = None
        self._log: Any = None  # the console lines go to when stderr is not a terminal
        self._logged = -1  # the tenth of the population last written to the log
        self._since: tuple[float, int] = (0.0, 0)  # (clock, particles) when this run met `_t`

    def __enter__(self) -> _GenerationBar:
        if self.show:
            from rich.console import Console

            console = Console(stderr=True)
            if not console.is_terminal and not console.is_jupyter:  # notebooks show a bar
                self._log = console
                return self
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            # Particles come a few a minute late in a long fit: time left is estimated over
            # the last quarter of an hour, not rich's default half-minute.
            self._bar = Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                TextColumn("particles from {task.fields[candidates]} candidates (accepted "
                           "{task.fields[rate]})  epsilon {task.fields[eps]}"),
                TimeElapsedColumn(), TextColumn("left"), TimeRemainingColumn(),
                console=console, speed_estimate_period=900)
            self._bar.start()
        return self

    def particle(self, t: int, drawn: int, n: int, tried: int, eps: float) -> None:
        """Show generation `t`'s `drawn` particles of `n`, from `tried` candidates."""
        if self._log is not None:
            self._log_particle(t, drawn, n, tried, eps)
        if self._bar is None:
            return
        fields = {"candidates": f"{tried:,}", "rate": f"{drawn / max(tried, 1):.1%}",
                  "eps": "-" if eps != eps else f"{eps:.3g}"}
        if t != self._t:
            if self._task is not None:
                self._bar.remove_task(self._task)
            self._t = t
            label = "calibration sample" if t < 0 else f"generation {t} (of at most {self.total})"
            self._task = self._bar.add_task(label, total=n, completed=drawn, **fields)
        else:
            self._bar.update(self._task, completed=drawn, **fields)

    def _log_particle(self, t: int, drawn: int, n: int, tried: int, eps: float) -> None:
        """Write a line when generation `t` starts (or carries on) and at each tenth of it."""
        now = time.monotonic()
        if t != self._t:
            self._t, self._since, self._logged = t, (now, drawn), -1
        tenth = 10 * drawn // max(n, 1)
        if tenth == self._logged:
            return
        self._logged = tenth
        label = "calibration sample" if t < 0 else f"generation {t} (of at most {self.total})"
        line = (f"{datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC  {label}: {drawn}/{n} particles from "
                f"{tried:,} candidates (accepted {drawn / max(tried, 1):.1%})")
        if eps == eps:
            line += f", epsilon {eps:.3g}"
        clock, first = self._since
        if first < drawn < n:  # time left at this run's own pace in this generation
            left = (now - clock) / (drawn - first) * (n - drawn)
            line += f", about {timedelta(seconds=round(left))} left"
        self._log.print(line, markup=False, highlight=False, soft_wrap=True)

    def stored(self, generation: int, rate: float, eps: float, samples: int) -> None:
        """Say that generation `generation` is stored."""
        console = self._log if self._log is not None else (
            self._bar.console if self._bar is not None else None)
        if console is not None:
            console.print(f"generation {generation} stored: epsilon {eps:.3g}, "
                          f"{samples:,} candidates, accepted {rate:.1%}",
                          markup=False, highlight=False, soft_wrap=True)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()


def _finish(history: Any, targets: TargetsFile, work: Path, state: dict, workers: int,
            model_kwargs: dict[str, Any], extra_files: dict[str, bytes] | None) -> None:
    """Write the posterior, predictive check, diagnostics, versions and report into `work`."""
    from sim.studies.calibration.report import write_report

    df, w = history.get_distribution(m=0, t=history.max_t)
    posterior = df[list(targets.fit)].reset_index(drop=True).astype(float)
    posterior["weight"] = np.asarray(w, float) / np.sum(w)
    posterior.to_parquet(work / "posterior.parquet")
    gens = convergence.generation_table(history, list(targets.fit))
    gens.to_csv(work / "generations.csv", index=False)
    ess = convergence.effective_sample_size(posterior["weight"])
    verdict = convergence.check(gens, _ranges(targets), targets.abc.convergence,
                                tolerance(targets))
    seed = targets.abc.seed
    n = targets.abc.predictive_draws
    cal = Calibration(work, {}, posterior, pd.DataFrame(), gens, targets)
    pred_seeds = [int(s) for s in np.random.SeedSequence([seed, 1]).generate_state(n)]
    pred = predictive(targets, cal.draws(n, seed), pred_seeds, workers, model_kwargs)
    pred.to_parquet(work / "predictive.parquet")
    _write_targets(work, targets)
    for name, data in (extra_files or {}).items():
        (work / name).write_bytes(data)
    info = {
        "name": targets.name, "fingerprint": targets.fingerprint(), "status": "complete",
        "finished": _now(), "method": "ABC-SMC (pyabc), uniform or truncated-normal priors, "
        "RMS of standardised gaps as distance, median epsilon schedule floored at the "
        "targets' stated uncertainty",
        "epsilon_floor": tolerance(targets),
        "kernel_scaling": targets.abc.kernel_scaling,
        "seed": seed, "predictive_seeds": pred_seeds, "generations": int(len(gens)),
        "simulations": int(history.total_nr_simulations), "ess": round(ess, 1),
        "converged": verdict["converged"], "convergence": verdict,
        "final_epsilon": float(gens["epsilon"].iloc[-1]), "sessions": state["sessions"],
        "seconds": round(sum(s.get("seconds") or 0 for s in state["sessions"]), 1),
        "versions": provenance.package_versions(
            (*provenance.VERSIONED_PACKAGES, "pyabc")),
        "git": provenance.git_state(),
    }
    cal.info, cal.predictive = info, pred
    _write_json(work / "calibration.json", info)
    write_report(cal, work / "report")


def load_calibration(folder: str | Path, *, unfinished: bool = False) -> Calibration:
    """Read a finished calibration folder; raise CalibrationError (one line) if it is not.

    Args:
        unfinished: if the fit that will write `folder` has not finished (running, or stopped
            to be carried on), return its last finished generation (`load_unfinished`).
    """
    folder = Path(folder)
    if unfinished and not (folder / "calibration.json").is_file():
        return load_unfinished(folder)
    try:
        info = json.loads((folder / "calibration.json").read_text(encoding="utf-8"))
        from sim.studies.calibration.targets import parse_targets

        targets = parse_targets(yaml.safe_load((folder / "targets.yaml").read_text(
            encoding="utf-8")), folder / "targets.yaml")
        # A snapshot of an unfinished fit (write_snapshot) has no predictive check.
        predictive_file = folder / "predictive.parquet"
        return Calibration(folder, info, pd.read_parquet(folder / "posterior.parquet"),
                           pd.read_parquet(predictive_file) if info.get("status") != "unfinished"
                           or predictive_file.is_file() else pd.DataFrame(),
                           pd.read_csv(folder / "generations.csv"), targets)
    except (OSError, ValueError, KeyError) as err:
        raise CalibrationError(f"{folder}: not a finished calibration folder ({err}); allowed:"
                               " a folder written by `loyalty-sim calibrate`") from None


def unfinished_folder(folder: str | Path) -> Path:
    """The hidden working folder in which the fit that will write `folder` runs."""
    folder = Path(folder)
    return folder.with_name(f".{folder.name}.partial")


def load_unfinished(folder: str | Path) -> Calibration:
    """The posterior so far of a fit that has not finished (running, or stopped to be carried
    on): its last finished generation, read from the working folder of the fit that will
    write `folder`. It has no posterior-predictive check; `info["status"]` is "unfinished".
    Raise CalibrationError (one line) if no generation has finished."""
    work = unfinished_folder(folder)
    if not (work / "state.json").is_file():
        raise CalibrationError(f"{folder}: no fit has started here (no {work.name}/state.json);"
                               " allowed: the --out folder of a fit that has started")
    try:
        state = json.loads((work / "state.json").read_text(encoding="utf-8"))
        from sim.studies.calibration.targets import parse_targets

        # Fits started before the targets were written there kept only the source file.
        path = next(p for p in (work / "targets.yaml", work / "targets_source.yaml")
                    if p.is_file())
        targets = parse_targets(yaml.safe_load(path.read_text(encoding="utf-8")), path)
    except (OSError, ValueError, KeyError, StopIteration) as err:
        raise CalibrationError(f"{folder}: no unfinished calibration ({err or 'no targets'});"
                               " allowed: the --out folder of a fit that has started") from None
    if targets.fingerprint() != state.get("fingerprint"):
        raise CalibrationError(f"{work}: its targets file was changed after the fit started; "
                               "allowed: the unchanged file")
    cal = Calibration(work, {"abc_id": state["abc_id"]}, pd.DataFrame(), pd.DataFrame(),
                      pd.DataFrame(), targets)
    history = cal.history()
    if history.max_t < 0:
        raise CalibrationError(f"{folder}: the fit has not finished a generation yet; allowed:"
                               " a fit with at least one finished generation")
    df, w = history.get_distribution(m=0, t=history.max_t)
    cal.posterior = df[list(targets.fit)].reset_index(drop=True).astype(float)
    cal.posterior["weight"] = np.asarray(w, float) / np.sum(w)
    cal.generations = gens = convergence.generation_table(history, list(targets.fit))
    cal.info = {
        "name": targets.name, "fingerprint": state["fingerprint"], "status": "unfinished",
        "abc_id": state["abc_id"], "generations": int(len(gens)),
        "simulations": int(history.total_nr_simulations),
        "ess": round(convergence.effective_sample_size(cal.posterior["weight"]), 1),
        "convergence": convergence.check(gens, _ranges(targets), targets.abc.convergence,
                                         tolerance(targets)),
        "final_epsilon": float(gens["epsilon"].iloc[-1]), "sessions": state["sessions"],
        "population_size": targets.abc.population_size,
        **journal_progress(work / JOURNAL / f"t{history.max_t + 1}",
                           since=_session_start(state))}
    return cal


def _session_start(state: dict) -> float | None:
    """When the fit's latest session started (seconds since the epoch), if known."""
    sessions = state.get("sessions") or []
    started = sessions[-1].get("started") if sessions else None
    return datetime.fromisoformat(started).timestamp() if started else None


def journal_progress(folder: Path, recent: int = 20, since: float | None = None
                     ) -> dict[str, Any]:
    """The generation under way, from its journal `folder`: the particles drawn so far (which
    a stop does not lose) and the pace of the `recent` last ones drawn `since` (the latest
    session's start: the pause between two sessions is no part of the pace), in particles a
    minute (None under five, or when they were all written within a second)."""
    paths = list(folder.glob("*.pickle"))
    times = sorted(p.stat().st_mtime for p in paths)
    last = [t for t in times if since is None or t >= since][-recent:]
    span = (last[-1] - last[0]) if len(last) >= 5 else 0.0
    return {"particles_drawn": len(times),
            "particles_per_minute": 60 * (len(last) - 1) / span if span >= 1 else None,
            "ess_share_so_far": _journal_ess_share(paths)}


def _journal_ess_share(paths: list[Path], least: int = 5) -> float | None:
    """The effective sample size of the journalled particles' importance weights, as a share
    of their number (None under `least`). pyabc weighs each particle as it is drawn, so this
    foretells the generation's weight degeneracy before it ends; an entry that cannot be read
    is left out (the fit draws it again)."""
    weights = []
    for path in paths:
        try:
            sample = pickle.loads(path.read_bytes())[0]
            weights += [p.weight for p in sample.accepted_particles]
        except Exception:  # noqa: BLE001,S112 (any damage: the entry is drawn again)
            continue
    if len(weights) < least or not np.sum(weights) > 0:
        return None
    return convergence.effective_sample_size(weights) / len(weights)


def write_snapshot(cal: Calibration, folder: str | Path) -> Path:
    """Write an unfinished fit's posterior so far (`load_unfinished`) as a calibration folder:
    `load_calibration` reads it and runs can draw from it (`calibration: FOLDER`), so a long
    fit's last generation can be used, and committed, before the fit ends. It has no
    posterior-predictive check (`info["status"]` stays "unfinished"). Written whole or not at
    all; an existing folder is refused (CalibrationError)."""
    folder = Path(folder)
    if folder.exists():
        raise CalibrationError(f"{folder}: already exists; allowed: a new folder")
    tmp = folder.with_name(f".{folder.name}.tmp-{os.getpid()}")
    tmp.mkdir(parents=True)
    try:
        cal.posterior.to_parquet(tmp / "posterior.parquet")
        cal.generations.to_csv(tmp / "generations.csv", index=False)
        _write_targets(tmp, cal.targets)
        info = {k: v for k, v in cal.info.items() if k != "abc_id"}
        _write_json(tmp / "calibration.json", {
            **info, "snapshot": _now(), "generation": info["generations"] - 1,
            "versions": provenance.package_versions((*provenance.VERSIONED_PACKAGES, "pyabc")),
            "git": provenance.git_state()})
        os.replace(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder


def _write_targets(work: Path, targets: TargetsFile) -> None:
    (work / "targets.yaml").write_text(yaml.safe_dump(
        targets.model_dump(mode="json"), sort_keys=False), encoding="utf-8")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
    os.replace(tmp, path)

