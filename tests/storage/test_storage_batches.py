"""The batch paths the API's coalescer uses: one call, many requests, one result each."""

from __future__ import annotations

import math
import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from test_storage_repositories import make_user

from accunode_cli.errors import ConflictError, InputError, NotFoundError
from accunode_cli.scoring import load_model
from accunode_cli.services.predictions import PredictionRequest, record_predictions
from accunode_cli.storage import companies, organizations
from accunode_cli.storage.companies import CompanyRef
from accunode_cli.storage.models import AnnualPrediction, Company, QuarterlyPrediction

RATIOS = {
    "long_term_debt_to_total_capital": 35.0,
    "total_debt_to_ebitda": 2.1,
    "net_income_margin": 8.5,
    "ebit_to_interest_expense": 9.2,
    "return_on_assets": 6.1,
}


def _org(session: Session) -> uuid.UUID:
    user = make_user(session)
    return organizations.get_personal_organization(session, user_id=user.id).id


def test_a_batch_of_annual_predictions_gives_each_request_its_own_outcome(
    session: Session,
) -> None:
    org, other_org = _org(session), _org(session)
    theirs = companies.create_company(session, organization_id=other_org, symbol="T", name="T")
    ours = companies.create_company(session, organization_id=org, symbol="OURS", name="Ours")
    model = load_model("annual")
    stored = record_predictions(
        session,
        kind="annual",
        model=model,
        requests=[PredictionRequest(CompanyRef(org, company_id=ours.id), 2022, RATIOS)],
    )
    assert isinstance(stored[0], dict)
    session.commit()

    def by_symbol(symbol: str, year: int, **ratios: float | None) -> PredictionRequest:
        return PredictionRequest(
            CompanyRef(org, symbol=symbol, name=f"{symbol} plc"), year, {**RATIOS, **ratios}
        )

    requests = [
        # 0: a new company, created on first use; 1: the same one (normalised), another year
        by_symbol("new1", 2024),
        by_symbol(" NEW1 ", 2023),
        # 2: real data with a missing ratio and an extreme one
        by_symbol("new2", 2024, net_income_margin=None, return_on_assets=-250.0),
        # 3: the period of 0 again, in the same batch: a conflict
        by_symbol("new1", 2024),
        # 4: a period stored before; 5: another tenant's company; 6: no such company
        PredictionRequest(CompanyRef(org, company_id=ours.id), 2022, RATIOS),
        PredictionRequest(CompanyRef(org, company_id=theirs.id), 2024, RATIOS),
        PredictionRequest(CompanyRef(org, company_id=uuid.uuid4()), 2024, RATIOS),
        # 7: a ratio that is not a number (only a library call can send one)
        by_symbol("new3", 2024, net_income_margin="twelve"),  # type: ignore[arg-type]
        # 8: a missing-value marker is stored as NULL
        by_symbol("new4", 2024, net_income_margin="n/a"),  # type: ignore[arg-type]
    ]
    results = record_predictions(session, kind="annual", model=model, requests=requests)
    session.commit()

    first, second, real, duplicate, again, foreign, missing, empty, marker = results
    assert isinstance(first, dict) and isinstance(second, dict) and isinstance(real, dict)
    assert first["company_id"] == second["company_id"]
    assert first["company_symbol"] == "NEW1" and first["company_name"] == "new1 plc"
    assert real["return_on_assets"] == -250.0 and real["net_income_margin"] is None
    assert real["flags"] == {"net_income_margin": "missing"}
    # each row is scored exactly as one company alone would be
    alone = model.score_one(requests[2].ratios)
    assert math.isclose(real["probability"], alone.probability, rel_tol=1e-12)
    assert isinstance(duplicate, ConflictError)
    assert duplicate.details["existing_id"] == str(first["id"])
    assert isinstance(again, ConflictError)
    assert again.details["existing_id"] == str(stored[0]["id"])  # type: ignore[index]
    assert isinstance(foreign, NotFoundError) and isinstance(missing, NotFoundError)
    assert isinstance(empty, InputError)
    assert isinstance(marker, dict) and marker["net_income_margin"] is None

    rows = session.scalars(select(AnnualPrediction).where(AnnualPrediction.organization_id == org))
    assert {(row.company.symbol, row.reporting_year) for row in rows} == {
        ("OURS", 2022),
        ("NEW1", 2024),
        ("NEW1", 2023),
        ("NEW2", 2024),
        ("NEW4", 2024),
    }
    assert (
        session.scalar(
            select(func.count()).select_from(Company).where(Company.organization_id == org)
        )
        == 4
    )  # OURS, NEW1, NEW2 and NEW3 (created before its ratios were found empty)
    assert (
        session.scalar(
            select(func.count())
            .select_from(AnnualPrediction)
            .where(AnnualPrediction.organization_id == other_org)
        )
        == 0
    )


def test_a_batch_of_quarterly_predictions_normalises_quarters_and_needs_one(
    session: Session,
) -> None:
    org = _org(session)
    ratios = {
        "total_debt_to_ebitda": 2.0,
        "sga_margin": 20.0,
        "long_term_debt_to_total_capital": 300.0,
        "return_on_capital": 4.0,
    }
    requests = [
        PredictionRequest(CompanyRef(org, symbol="Q"), 2024, ratios, reporting_quarter=quarter)
        for quarter in ("q1", 2, "Q2", None, "Q5")
    ]
    q1, q2, same_q2, no_quarter, bad_quarter = record_predictions(
        session, kind="quarterly", model=load_model("quarterly"), requests=requests
    )
    session.commit()
    assert isinstance(q1, dict) and q1["reporting_quarter"] == "Q1"
    assert isinstance(q2, dict) and q2["reporting_quarter"] == "Q2"
    assert isinstance(same_q2, ConflictError)
    assert same_q2.details["existing_id"] == str(q2["id"])
    assert isinstance(no_quarter, InputError) and isinstance(bad_quarter, InputError)
    assert session.scalar(select(func.count()).select_from(QuarterlyPrediction)) == 2


def test_resolving_companies_finds_and_creates_in_one_call(session: Session) -> None:
    org, other = _org(session), _org(session)
    existing = companies.create_company(session, organization_id=org, symbol="OLD", name="Old")
    refs = [
        CompanyRef(org, symbol="old"),
        CompanyRef(org, symbol="brand new", name="  Brand New  ", sector="Energy"),
        CompanyRef(other, symbol="OLD"),  # the same symbol in another tenant is another company
        CompanyRef(org, company_id=existing.id),
        CompanyRef(other, company_id=existing.id),
    ]
    old, new, other_old, by_id, foreign = companies.resolve_companies(session, refs)
    assert isinstance(old, companies.CompanyIdentity) and old.id == existing.id
    assert isinstance(new, companies.CompanyIdentity) and new.name == "Brand New"
    assert new.symbol == "BRAND NEW"
    assert isinstance(other_old, companies.CompanyIdentity) and other_old.id != existing.id
    assert by_id == old
    assert isinstance(foreign, NotFoundError)
    session.commit()
    stored = session.get(Company, new.id)
    assert stored is not None and stored.sector == "Energy"


def test_access_of_many_users_in_one_call(session: Session) -> None:
    a, b = make_user(session), make_user(session)
    shared = organizations.create_organization(session, name="Shared", owner_id=a.id)
    session.commit()
    keys = [(a.id, None), (a.id, shared.id), (b.id, shared.id), (uuid.uuid4(), None), (a.id, None)]
    personal, owner, outsider, nobody, repeated = organizations.get_access(session, keys)
    assert personal is not None and personal.role == "owner" and personal.is_active
    assert owner is not None and owner.organization_id == shared.id and owner.role == "owner"
    assert outsider is not None and outsider.role is None and outsider.organization_id is None
    assert nobody is None
    assert repeated == personal


def test_postgres_statements_are_planned_with_their_values_not_cached(pg_url: str) -> None:
    """No server-side prepared statements: a plan made while a table was empty (a sequential
    scan) must not stay cached on a pooled connection while the table grows."""
    from sqlalchemy import text

    from accunode_cli.storage.db import make_engine

    engine = make_engine(pg_url)
    try:
        with engine.connect() as connection:
            for _ in range(10):  # psycopg would prepare from the fifth execution by default
                connection.execute(select(func.count()).select_from(Company)).scalar()
            prepared = connection.execute(text("SELECT count(*) FROM pg_prepared_statements"))
            assert prepared.scalar() == 0
    finally:
        engine.dispose()
