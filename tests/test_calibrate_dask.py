"""A calibration on pyabc's Dask sampler, on an in-process dask.distributed cluster (small)."""

from __future__ import annotations

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


def test_a_calibration_runs_on_a_dask_cluster(tmp_path, monkeypatch):
    path = tmp_path / "targets.yaml"
    path.write_text(yaml.safe_dump(TINY, sort_keys=False))
    used = []
    real = engine._sampler

    def watched(workers, cluster):
        sampler = real(workers, cluster)
        used.append(sampler)
        return sampler

    monkeypatch.setattr(engine, "_sampler", watched)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        # workers=1: the posterior predictive afterwards runs here, not in forked processes
        cal = calibrate(path, out=tmp_path / "fit", cluster=cluster.scheduler_address,
                        workers=1, progress=False)
        # pyabc's Dask sampler did the work, on the cluster's workers
        from pyabc.sampler import DaskDistributedSampler

        assert isinstance(used[0], DaskDistributedSampler)
        assert used[0].client.scheduler.address == cluster.scheduler_address
        used[0].client.close()
    assert len(cal.posterior) == 6 and len(cal.generations) == 2
    assert cal.posterior["supervisor_quality_mean"].between(0.3, 0.7).all()
    assert cal.info["sessions"][-1]["cluster"] == cluster.scheduler_address
