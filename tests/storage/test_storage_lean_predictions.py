"""Migrations 0005 and 0007: the prediction tables bulk jobs write into, lean but still whole.

One foreign key, on (company, organization), keeps a prediction inside its company's
organization; deleting a job clears its predictions' job id even while one of its chunks is
being stored; existing rows survive the upgrade and the downgrade, their contributions to the
last bit (a JSON object before 0007, a float array on PostgreSQL after); ids are
time-ordered.
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import pytest
from sqlalchemy import Engine, delete, func, inspect, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from accunode_cli.jobs.files import Split
from accunode_cli.scoring.ratios import ratio_names
from accunode_cli.storage import jobs as job_rows
from accunode_cli.storage.db import make_engine, make_session_factory, new_id, new_ids
from accunode_cli.storage.migrate import downgrade_database, upgrade_database
from accunode_cli.storage.models import (
    AnnualPrediction,
    Company,
    Membership,
    Organization,
    User,
)


def _owner(session: Session) -> tuple[User, Organization]:
    user = User(email=f"{uuid.uuid4().hex}@example.com", password_hash="x", full_name="A")
    user.email_key = user.email
    session.add(user)
    session.flush()
    organization = Organization(name="Org", created_by=user.id)
    session.add(organization)
    session.flush()
    return user, organization


def _company(session: Session, organization: Organization, symbol: str) -> Company:
    company = Company(organization_id=organization.id, symbol=symbol, name=symbol)
    session.add(company)
    session.flush()
    return company


def _prediction(company: Company, organization_id: uuid.UUID, year: int, **extra: Any) -> Any:
    return AnnualPrediction(
        organization_id=organization_id,
        company_id=company.id,
        reporting_year=year,
        probability=0.01,
        log_odds=-4.6,
        risk_level="LOW",
        implied_rating="BBB",
        contributions=dict.fromkeys(ratio_names("annual"), 0.0),
        flags={},
        model_version="annual-test",
        **extra,
    )


def _prediction_foreign_keys(engine: Engine) -> list[dict[str, Any]]:
    return inspect(engine).get_foreign_keys("annual_predictions")


def test_a_prediction_cannot_name_another_organizations_company(session: Session) -> None:
    _, mine = _owner(session)
    _, theirs = _owner(session)
    company = _company(session, theirs, "ACME")
    session.commit()
    session.add(_prediction(company, mine.id, 2024))
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()
    session.add(_prediction(company, theirs.id, 2024))
    session.commit()
    assert session.scalar(select(func.count()).select_from(AnnualPrediction)) == 1


def test_no_redundant_index_and_the_company_checked_by_key_or_trigger(engine: Engine) -> None:
    """SQLite keeps the foreign key; PostgreSQL checks the companies once per statement
    (migration 0008) instead of once per row."""
    keys = [
        (k["constrained_columns"], k["referred_table"]) for k in _prediction_foreign_keys(engine)
    ]
    if engine.dialect.name == "sqlite":
        assert keys == [(["company_id", "organization_id"], "companies")]
    else:
        assert keys == []
        with engine.connect() as connection:
            triggers = set(
                connection.scalars(text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"))
            )
        assert {
            "annual_companies_after_insert",
            "quarterly_companies_after_insert",
            "companies_predictions_after_delete",
        } <= triggers
    indexed = {tuple(i["column_names"]) for i in inspect(engine).get_indexes("annual_predictions")}
    assert ("organization_id",) not in indexed and ("risk_level",) not in indexed


def test_deleting_a_company_deletes_its_predictions_only(session: Session) -> None:
    _, organization = _owner(session)
    gone, kept = _company(session, organization, "GONE"), _company(session, organization, "KEPT")
    for year in (2020, 2021):
        session.add(_prediction(gone, organization.id, year))
    session.add(_prediction(kept, organization.id, 2020))
    session.commit()
    session.delete(gone)
    session.commit()
    left = session.execute(select(AnnualPrediction.company_id)).scalars().all()
    assert left == [kept.id]


def test_a_stored_rows_company_and_organization_cannot_change(pg_url: str) -> None:
    """Nothing in AccuNode moves a prediction or a company; the schema refuses it, as the
    foreign key did (a move would leave a prediction outside its company's organization)."""
    from dbservers import truncate_all

    engine = make_engine(pg_url)
    truncate_all(engine)
    with make_session_factory(engine)() as session:
        _, organization = _owner(session)
        _, other = _owner(session)
        company, second = _company(session, organization, "A"), _company(session, organization, "B")
        prediction = _prediction(company, organization.id, 2020)
        session.add(prediction)
        session.commit()
        statements = [
            update(AnnualPrediction).values(company_id=second.id),
            update(AnnualPrediction).values(organization_id=other.id),
            update(Company).where(Company.id == company.id).values(organization_id=other.id),
        ]
        for statement in statements:
            with pytest.raises(IntegrityError):
                session.execute(statement)
            session.rollback()
        session.execute(update(AnnualPrediction).values(probability=0.02))  # other columns: yes
        session.commit()
    engine.dispose()


@pytest.mark.parametrize("attempt", range(3))
@pytest.mark.parametrize("first", ["insert", "delete"])
def test_a_company_deleted_while_its_predictions_are_stored_leaves_none(
    pg_url: str, first: str, attempt: int
) -> None:
    """Whichever of a chunk's insert and a company's deletion takes the company first, no
    prediction outlives its company: a chunk that locked it first commits and the deletion
    then removes its rows; a chunk that comes second fails with the foreign key's error."""
    from dbservers import truncate_all

    engine = make_engine(pg_url)
    truncate_all(engine)
    sessions = make_session_factory(engine)
    with sessions() as session, session.begin():
        _, organization = _owner(session)
        company = _company(session, organization, "RACE")
        org_id, company_id = organization.id, company.id
    holding = threading.Event()
    outcome: list[BaseException | None] = []

    def store() -> None:
        try:
            with sessions() as session, session.begin():
                if first == "delete":
                    assert holding.wait(30)  # the deletion holds the company
                session.add_all(_prediction(company, org_id, year) for year in range(1900, 2100))
                session.flush()
                if first == "insert":
                    holding.set()
                    time.sleep(0.3)  # the deletion waits on the company meanwhile
            outcome.append(None)
        except BaseException as error:
            outcome.append(error)
            holding.set()

    storer = threading.Thread(target=store)
    storer.start()
    with sessions() as session, session.begin():
        if first == "insert":
            assert holding.wait(30)
        session.execute(delete(Company).where(Company.id == company_id))
        if first == "delete":
            holding.set()
            time.sleep(0.3)  # the insert waits on the company meanwhile
    storer.join(30)
    assert not storer.is_alive()
    if first == "insert":
        assert outcome == [None]
    else:
        assert isinstance(outcome[0], IntegrityError)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(AnnualPrediction)) == 0
        assert session.get(Company, company_id) is None
    engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_every_row_survives_upgrades_and_downgrades(
    backend: str, tmp_path: Any, request: pytest.FixtureRequest
) -> None:
    """SQLite rebuilds a table to alter it; the rebuild must not cascade into its children
    (0004 rebuilds users, 0005 companies and the prediction tables)."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.db'}"
    else:
        from dbservers import create_pg_database, drop_pg_database

        url = create_pg_database()
        request.addfinalizer(lambda: drop_pg_database(url))
    engine = make_engine(url)
    upgrade_database(engine, "0004")
    with make_session_factory(engine)() as session:
        user, organization = _owner(session)
        session.add(Membership(organization_id=organization.id, user_id=user.id, role="owner"))
        company = _company(session, organization, "OLD")
        _insert_before_0007(
            session, _prediction(company, organization.id, 2020, created_by=user.id)
        )
        session.commit()

    def counts() -> list[int]:
        with make_session_factory(engine)() as session:
            return [
                session.scalar(select(func.count()).select_from(table))
                for table in (User, Organization, Membership, Company, AnnualPrediction)
            ]

    upgrade_database(engine)
    assert counts() == [1, 1, 1, 1, 1]
    assert len(_prediction_foreign_keys(engine)) == (1 if backend == "sqlite" else 0)
    downgrade_database(engine, "0003")
    assert len(_prediction_foreign_keys(engine)) == 4
    assert counts() == [1, 1, 1, 1, 1]
    with engine.begin() as connection:  # 0003 has no email_key yet
        assert "email_key" not in {c["name"] for c in inspect(connection).get_columns("users")}
    assert _stored_json_contributions(engine) == [_CONTRIBUTIONS]
    upgrade_database(engine)
    assert counts() == [1, 1, 1, 1, 1]
    with make_session_factory(engine)() as session:
        stored = session.scalars(select(AnnualPrediction)).all()
        assert [(p.reporting_year, p.company.symbol, p.created_by) for p in stored] == [
            (2020, "OLD", user.id)
        ]
        assert [p.contributions for p in stored] == [_CONTRIBUTIONS]
    engine.dispose()


# Doubles whose shortest text has 17 digits: the migration must move them exactly.
_CONTRIBUTIONS = {
    name: float.fromhex(f"0x1.{i}23456789abcdp-3") * (-1) ** i
    for i, name in enumerate(ratio_names("annual"))
}


def _old_table() -> Any:
    """annual_predictions as it was before 0007: contributions a JSON object."""
    from sqlalchemy import column, table

    from accunode_cli.storage.db import JSONType

    return table(
        "annual_predictions",
        *(
            column(c.name, JSONType if c.name == "contributions" else c.type)
            for c in AnnualPrediction.__table__.columns
        ),
    )


def _insert_before_0007(session: Session, prediction: AnnualPrediction) -> None:
    from sqlalchemy import insert

    old = _old_table()
    row = {c.name: getattr(prediction, c.name) for c in old.columns}
    row.update(id=new_id(), contributions=_CONTRIBUTIONS, job_id=None, row_number=None)
    row.update(created_at=row["created_at"] or _now(), updated_at=row["updated_at"] or _now())
    session.execute(insert(old), [row])


def _stored_json_contributions(engine: Engine) -> list[Any]:
    with engine.connect() as connection:
        return list(connection.scalars(select(_old_table().c.contributions)))


def _now() -> Any:
    from accunode_cli.storage.db import utcnow

    return utcnow()


def test_ids_are_time_ordered_uuid7() -> None:
    first = new_id()
    time.sleep(0.002)
    batch = new_ids(1000).to_pylist()
    time.sleep(0.002)
    last = new_id()
    assert first.version == 7 and all(uuid.UUID(i).version == 7 for i in batch)
    assert all(str(uuid.UUID(i)) == i for i in batch)  # the form the API shows
    assert batch == sorted(batch) and len(set(batch)) == 1000
    assert str(first) < batch[0] and batch[-1] < str(last)


@pytest.mark.parametrize("attempt", range(3))
def test_deleting_a_job_while_a_chunk_is_stored_leaves_no_prediction_naming_it(
    pg_url: str, attempt: int
) -> None:
    """The chunk's transaction holds the chunk row; the delete waits for it, then clears the
    job id of the rows the chunk committed. Without the order (clear, then delete) they
    would keep naming a job that no longer exists."""
    from dbservers import truncate_all

    engine = make_engine(pg_url)
    truncate_all(engine)
    sessions = make_session_factory(engine)
    with sessions() as session, session.begin():
        user, organization = _owner(session)
        companies = [_company(session, organization, f"C{i}") for i in range(50)]
        job = job_rows.create_job(
            session,
            organization_id=organization.id,
            max_active=5,
            values={
                "created_by": user.id,
                "kind": "annual",
                "on_conflict": "skip",
                "file_name": "f.csv",
                "file_bytes": 1,
                "blob_key": "k",
            },
        )
        split = Split([(1, 1, 50)], 50, decimal_comma=False, to_points=(), warnings=[])
        job_rows.add_chunks(session, job_id=job.id, split=split)
        org_id, job_id = organization.id, job.id
        chunk_id = job_rows.chunks_of(session, job.id)[0].id
    locked = threading.Event()
    errors: list[BaseException] = []

    def store() -> None:
        try:
            with sessions() as session, session.begin():
                assert job_rows.lock_chunk(session, chunk_id) is not None
                for row, company in enumerate(companies, start=1):
                    session.add(_prediction(company, org_id, 2024, job_id=job_id, row_number=row))
                session.flush()
                locked.set()
                time.sleep(0.5)  # the delete is waiting on the chunk meanwhile
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)
            locked.set()

    storer = threading.Thread(target=store)
    storer.start()
    assert locked.wait(30)
    with sessions() as session, session.begin():
        job_rows.delete_job(session, organization_id=org_id, job_id=job_id)
    storer.join(30)
    assert not errors
    with sessions() as session:
        stored = session.scalar(select(func.count()).select_from(AnnualPrediction))
        naming = session.scalar(
            select(func.count())
            .select_from(AnnualPrediction)
            .where(AnnualPrediction.job_id == job_id)
        )
    assert (stored, naming) == (50, 0)
    engine.dispose()
