"""Turn stored rows into response bodies; ETags and the cached single-prediction read."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from fastapi import Request, Response
from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel

from accunode_cli.scoring import ratio_names
from accunode_cli.storage.models import Company, Organization, User
from accunode_cli.storage.read_cache import (
    CACHE_SECONDS,
    cache_prediction,
    forget_predictions,
    forget_predictions_after_commit,
    prediction_cache_key,
    read_cached_prediction,
)

__all__ = [
    "prediction_body",
    "prediction_fields",
    "with_cumulative_pds",
    "company_body",
    "user_body",
    "organization_body",
    "etag_response",
    "public_json",
    "forget_predictions",
    "forget_predictions_after_commit",
    "read_cached_prediction",
    "cache_prediction",
    "prediction_cache_key",
    "CACHE_SECONDS",
]


_PREDICTION_FIELDS = (
    "id",
    "company_id",
    "reporting_year",
    "probability",
    "log_odds",
    "risk_level",
    "implied_rating",
    "contributions",
    "flags",
    "model_version",
    "created_by",
    "created_at",
    "updated_at",
)


def prediction_body(row: Any, kind: str) -> dict[str, Any]:
    """Return the public fields of an annual or quarterly prediction, JSON-ready."""
    return jsonable_encoder(prediction_fields(row, kind))


def prediction_fields(row: Any, kind: str) -> dict[str, Any]:
    """Return the public fields of an annual or quarterly prediction (UUIDs, datetimes).

    ``row`` is an ORM row, or the mapping of columns that ``record_predictions`` returns
    (with ``company_symbol`` and ``company_name``). A route whose response model turns the
    values into JSON returns this directly.
    """
    names = _PREDICTION_FIELDS + (("reporting_quarter",) if kind == "quarterly" else ())
    names += tuple(ratio_names(kind))
    if isinstance(row, Mapping):
        body = {name: row[name] for name in names}
        body["job_id"], body["row_number"] = row.get("job_id"), row.get("row_number")
        body["company_symbol"], body["company_name"] = row["company_symbol"], row["company_name"]
    else:
        body = {name: getattr(row, name) for name in names}
        body["job_id"], body["row_number"] = row.job_id, row.row_number
        body["company_symbol"], body["company_name"] = row.company.symbol, row.company.name
    return body


def with_cumulative_pds(bodies: list[dict[str, Any]], horizon: int | None) -> list[dict[str, Any]]:
    """Return the prediction bodies with ``cumulative_pd`` for 1..horizon years (as given
    without a horizon). Keys and values as the what-if's; 1y is the stored probability."""
    if horizon is None or not bodies:
        return bodies
    import numpy as np

    from accunode_cli.analytics.term import cumulative_pds

    pds = cumulative_pds(np.asarray([body["log_odds"] for body in bodies]), horizon)
    out = []
    for body, row in zip(bodies, pds.tolist(), strict=True):
        curve = {f"{t + 1}y": pd for t, pd in enumerate(row)}
        curve["1y"] = body["probability"]  # exactly the stored figure, not a recomputed one
        out.append({**body, "cumulative_pd": curve})
    return out


def company_body(company: Company) -> dict[str, Any]:
    """Return the public fields of a company."""
    return jsonable_encoder(
        {
            field: getattr(company, field)
            for field in (
                "id",
                "symbol",
                "name",
                "sector",
                "market_cap",
                "created_by",
                "created_at",
                "updated_at",
            )
        }
    )


def user_body(user: User) -> dict[str, Any]:
    """Return the public fields of a user."""
    return jsonable_encoder(
        {
            "id": user.id,
            "email": user.email,
            "full_name": user.full_name,
            "email_verified": user.email_verified_at is not None,
            "created_at": user.created_at,
        }
    )


def organization_body(organization: Organization, role: str | None = None) -> dict[str, Any]:
    """Return the public fields of an organization (with the caller's role when given)."""
    body: dict[str, Any] = {
        "id": organization.id,
        "name": organization.name,
        "personal": organization.personal_for_user_id is not None,
        "created_at": organization.created_at,
    }
    if role is not None:
        body["role"] = role
    return jsonable_encoder(body)


def public_json(schema: type[BaseModel], body: dict[str, Any]) -> dict[str, Any]:
    """Return ``body`` exactly as FastAPI would render it through ``schema``."""
    return schema.model_validate(body).model_dump(mode="json")


def etag_response(request: Request, body: dict[str, Any]) -> Response:
    """Answer 200 with an ETag, or 304 when the client's If-None-Match matches it."""
    content = json.dumps(body, separators=(",", ":"), sort_keys=True).encode()
    etag = '"' + hashlib.sha256(content).hexdigest()[:32] + '"'
    wanted = request.headers.get("if-none-match", "")
    candidates = {tag.strip().removeprefix("W/") for tag in wanted.split(",")}
    if etag in candidates or "*" in candidates:
        return Response(status_code=304, headers={"ETag": etag})
    return Response(content, media_type="application/json", headers={"ETag": etag})
