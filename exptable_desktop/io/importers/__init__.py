"""Bringing runs recorded by other tools in: ClearML offline sessions, MLflow stores, TensorBoard logs.

Each importer reads its source into :class:`common.SourceRun` values; ``common.import_runs``
writes them through ``core.recording`` in one transaction, idempotently (see common.py).
"""
from __future__ import annotations

from exptable_desktop.io.importers.common import ImportCancelled, ImportReport, SourceError, SourceRun

SOURCES = ("clearml", "mlflow", "tensorboard")

__all__ = ["SOURCES", "ImportCancelled", "SourceError", "ImportReport", "SourceRun", "run_import"]


def run_import(source: str, location: str, *, project: str | None = None, on_progress=None) -> ImportReport:
    """Import ``location`` with the importer named ``source`` (one of ``SOURCES``)."""
    if source == "clearml":
        from exptable_desktop.io.importers.clearml_offline import import_clearml_offline as run
    elif source == "mlflow":
        from exptable_desktop.io.importers.mlflow_import import import_mlflow as run
    elif source == "tensorboard":
        from exptable_desktop.io.importers.tensorboard_import import import_tensorboard as run
    else:
        raise SourceError(f"unknown import source {source!r}; expected one of {', '.join(SOURCES)}")
    return run(location, project=project, on_progress=on_progress)
