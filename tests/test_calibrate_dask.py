"""A calibration on a Dask cluster (an in-process dask.distributed one, small): the same
posterior as in this process."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from sim.studies.calibration import calibrate, engine

distributed = pytest.importorskip("distributed")

TINY = {
    "name": "tiny-dask",
    "fit": {"supervisor_quality_mean": {"low": 0.3, "high": 0.7}},
    "targets": {"employee_engagement_mean": {"observed": 0.5, "se": 0.01}},
    "simulation": {"statistics": "chain", "n_stores": 5, "weeks": 12, "window_weeks": 6},
    "abc": {"population_size": 6, "generations": 2, "predictive_draws": 2, "seed": 5},
}


def test_a_calibration_runs_on_a_dask_cluster_and_matches_one_worker(tmp_path, monkeypatch):
    path = tmp_path / "targets.yaml"
    path.write_text(yaml.safe_dump(TINY, sort_keys=False))
    used = []
    real = engine._sampler

    def watched(workers, cluster, journal):
        sampler = real(workers, cluster, journal)
        used.append(sampler)
        return sampler

    monkeypatch.setattr(engine, "_sampler", watched)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        # workers=1: the posterior predictive afterwards runs here, not in forked processes
        cal = calibrate(path, out=tmp_path / "fit", cluster=cluster.scheduler_address,
                        workers=1, progress=False)
        # the particles' jobs ran on the cluster's workers
        ran = set(cluster.scheduler.task_prefixes)
    assert used[0].where == f"the Dask cluster at {cluster.scheduler_address}"
    assert any("map_function" in name for name in ran), ran
    assert len(cal.posterior) == 6 and len(cal.generations) == 2
    assert cal.posterior["supervisor_quality_mean"].between(0.3, 0.7).all()
    assert cal.info["sessions"][-1]["cluster"] == cluster.scheduler_address
    # the same seed in this process gives the same posterior
    here = calibrate(path, out=tmp_path / "here", workers=1, progress=False)
    np.testing.assert_array_equal(here.posterior.to_numpy(), cal.posterior.to_numpy())


def test_an_unreachable_cluster_is_one_line_and_nothing_is_written(tmp_path):
    from typer.testing import CliRunner

    from sim.cli import app

    path = tmp_path / "targets.yaml"
    path.write_text(yaml.safe_dump(TINY, sort_keys=False))
    out = tmp_path / "fits" / "fit"
    result = CliRunner().invoke(app, ["calibrate", str(path), "--out", str(out), "--cluster",
                                      "tcp://127.0.0.1:9", "--no-progress"])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output
    assert lines[0].startswith("--cluster tcp://127.0.0.1:9: cannot connect to a Dask scheduler")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["targets.yaml"]
