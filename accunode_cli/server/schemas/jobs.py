"""Schemas of bulk-upload jobs."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["JobPublic", "JobStatus", "ResultFormat", "OnConflict", "JobDriftPublic"]

JobStatus = Literal["queued", "running", "succeeded", "failed", "cancelled"]
ResultFormat = Literal["csv", "parquet"]
OnConflict = Literal["skip", "replace"]
PercentMode = Literal["fraction", "points"]


class JobPublic(BaseModel):
    """A bulk upload: what was sent, how far it is, what came of it."""

    id: uuid.UUID
    status: JobStatus
    kind: Literal["annual", "quarterly"]
    on_conflict: OnConflict
    file_name: str
    file_bytes: int
    rows_total: int | None = Field(description="Data rows in the file (known once it is split)")
    rows_processed: int
    rows_stored: int = Field(description="Rows stored as new predictions")
    rows_replaced: int = Field(description="Rows that replaced a stored prediction")
    rows_rejected: int = Field(description="Rows refused with a reason (see /errors)")
    rows_conflicting: int = Field(description="Rows whose company and period were already stored")
    progress: float = Field(ge=0, le=1)
    created_by: uuid.UUID | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    seconds: float | None = Field(description="From the first chunk's start to the end")
    rows_per_second: float | None
    error: str | None = Field(description="Why the job failed, when it did")
    percent: PercentMode | None = Field(
        default=None, description="How the upload said percentages are given, if it did"
    )
    header_row: int | None = Field(default=None, description="Excel's header row, as uploaded")
    column_map: dict[str, str] = Field(
        default_factory=dict, description="Header -> ratio name, as uploaded (`map`)"
    )
    warnings: list[str] = Field(
        default_factory=list,
        description="What a person should check, e.g. percentage columns that look like "
        "fractions (0.35 for 35 %) in a job uploaded without `percent`",
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "5b0c2f0e-8f5e-4a53-9d1c-1f3f3c1f2a10",
                    "status": "succeeded",
                    "kind": "annual",
                    "on_conflict": "skip",
                    "file_name": "portfolio.csv",
                    "file_bytes": 23040,
                    "rows_total": 300,
                    "rows_processed": 300,
                    "rows_stored": 299,
                    "rows_replaced": 0,
                    "rows_rejected": 1,
                    "rows_conflicting": 0,
                    "progress": 1.0,
                    "created_by": None,
                    "created_at": "2026-12-01T10:00:00Z",
                    "started_at": "2026-12-01T10:00:00Z",
                    "finished_at": "2026-12-01T10:00:01Z",
                    "seconds": 0.4,
                    "rows_per_second": 750.0,
                    "error": None,
                }
            ]
        }
    )


DriftStatus = Literal["stable", "watch", "shifted"]


class DriftBin(BaseModel):
    """One bin: its label and the reference and current shares of rows in it."""

    bin: str
    reference: float
    current: float


class RatioDriftPublic(BaseModel):
    """The drift of one ratio on the model's own bins."""

    name: str
    label: str
    psi: float = Field(description="Population stability index")
    status: DriftStatus = Field(description="stable < 0.10 <= watch <= 0.25 < shifted")
    missing: list[float] = Field(description="Share of missing values: [reference, current]")
    not_meaningful: list[float] = Field(
        description="Share of not-meaningful values: [reference, current]"
    )
    bins: list[DriftBin]


class ScoreDriftPublic(BaseModel):
    """The drift of the score, on the training deciles of the PD."""

    psi: float
    status: DriftStatus
    bins: list[DriftBin]


class JobDriftPublic(BaseModel):
    """A finished job's population against the model's training data: `accunode drift --json`."""

    job_id: uuid.UUID
    kind: Literal["annual", "quarterly"]
    model_version: str
    reference: str = Field(description="What the job's rows are compared with")
    rows: dict[str, int] = Field(description="Rows counted: reference and current")
    rejected_rows: int = Field(description="Rows left out: a cell that is no number")
    ratios: list[RatioDriftPublic]
    score: ScoreDriftPublic
    mean_probability: dict[str, float | None] = Field(description="Mean PD: reference, current")
