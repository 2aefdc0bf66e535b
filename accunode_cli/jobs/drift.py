"""The drift of a finished job's population: its stored input parts, read as it was scored.

Each done chunk's part is matched and prepared exactly as the runner hands it to the model
(the job's decimal-comma decision included), then counted by the analytics package: the
report equals ``accunode drift`` on the uploaded file. One part in memory at a time.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from accunode_cli.jobs.files import part_key, prepare_batch, read_part
from accunode_cli.storage.blobs import BlobStore
from accunode_cli.tabular import match_columns

if TYPE_CHECKING:
    from accunode_cli.analytics import DriftReport
    from accunode_cli.storage.models import Job

__all__ = ["job_drift"]


def _ratio_batches(blobs: BlobStore, job: Job, numbers: Sequence[int]) -> Iterator[dict[str, Any]]:
    for number in numbers:
        batch = read_part(blobs, part_key(job.id, number))
        match = match_columns(batch.schema.names, job.kind, source=job.file_name)
        yield prepare_batch(batch, match, decimal_comma=job.decimal_comma)


def job_drift(blobs: BlobStore, model: Any, job: Job, numbers: Sequence[int]) -> DriftReport:
    """Return the drift against the model's training data of the given chunks of a job."""
    from accunode_cli.analytics import drift_of_batches

    return drift_of_batches(model, _ratio_batches(blobs, job, numbers))
