"""Studies built on the model: scenario files, parameter sweeps, the runner and result store,
validation against published targets, sensitivity analysis, statistics and reports."""
