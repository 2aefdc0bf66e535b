"""Schemas shared by every route: the error envelope and a page of results."""

from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

__all__ = [
    "ErrorBody",
    "ErrorEnvelope",
    "PagePublic",
    "Ratio",
    "RatioIn",
    "ERROR_RESPONSES",
    "LIST_ERROR_RESPONSES",
    "Message",
]

T = TypeVar("T")

# Any real magnitude is accepted (no artificial ranges); only NaN and infinity are refused.
Ratio = Annotated[float | None, Field(default=None, allow_inf_nan=False)]
# In a request, a ratio may also be text, read exactly as the CLI reads a cell (the scoring
# core's cleaning): "12.5%", "1,234.5", "(3.2)", "NM" (not meaningful), "n/a" (missing).


def _readable_ratio(text: str) -> str:
    from accunode_cli.scoring.cleaning import INVALID, clean_column

    if clean_column([text]).status[0] == INVALID:
        raise ValueError("not a number, a percentage or a marker such as NM or n/a")
    return text


RatioIn = Annotated[
    Annotated[float, Field(allow_inf_nan=False, strict=True)]  # strict: true is no ratio
    | Annotated[str, Field(max_length=32), AfterValidator(_readable_ratio)]
    | None,
    Field(default=None, examples=[12.5, "12.5%", "NM", "n/a", None]),
]


class ErrorBody(BaseModel):
    """What went wrong: a stable code, a message for people, structured details."""

    code: str
    message: str
    details: dict[str, Any]


class ErrorEnvelope(BaseModel):
    """The one error shape of the API."""

    error: ErrorBody

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"error": {"code": "not_found", "message": "company not found", "details": {}}}
            ]
        }
    )


class PagePublic(BaseModel, Generic[T]):
    """One page of a list."""

    items: list[T]
    total: int
    page: int
    size: int


class Message(BaseModel):
    """A short confirmation."""

    message: str


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorEnvelope, "description": description}


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _error("Bad usage (for example an unknown sort field)"),
    401: _error("Missing, invalid, expired or revoked access token"),
    403: _error("Your role does not allow this action"),
    404: _error("Not found (or it belongs to another organization)"),
    409: _error("Conflicts with an existing resource"),
    413: _error("The request body is too large"),
    422: _error("The request is not valid; details.fields lists each field"),
    429: _error("Too many requests; see the Retry-After header"),
    500: _error("Internal error; quote the X-Request-ID"),
    503: _error("A dependency (database, Redis, models) is unavailable"),
}

# What a list route adds to ERROR_RESPONSES: its own reasons for 400 and 422.
LIST_ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _error("Unknown sort field; details name the fields it accepts"),
    422: _error(
        "A query parameter is not valid (size above 100, page below 1, a malformed id or "
        "date); details.fields names each one"
    ),
}
