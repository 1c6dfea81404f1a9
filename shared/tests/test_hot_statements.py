"""ReadSession and HotSelect on a real PostgreSQL: the same rows as SQLAlchemy, autocommit only while reading, and
a lost connection reported and dropped as SQLAlchemy does for its own statements."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator

import pytest
from renewals_shared.db import HotSelect, ReadSession, execute_select, make_engine
from renewals_shared.testing import RUN_ID, Databases
from sqlalchemy import Column, Date, Engine, Integer, LargeBinary, MetaData, String, Table, bindparam, select, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import DBAPIError, MultipleResultsFound
from sqlalchemy.pool import NullPool

metadata = MetaData()
things = Table(
    "things",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(50), nullable=False),
    Column("kind", String(10), nullable=False),
    Column("due", Date, nullable=True),
    Column("digest", LargeBinary(32), nullable=True),
    Column("details", JSONB, nullable=True),
)
BY_ID = HotSelect(select(things).where(things.c.id == bindparam("id")))
NAMED = HotSelect(select(things.c.id).where(things.c.name == bindparam("name")))
WIDGETS_NAMED = HotSelect(select(things.c.id).where(things.c.kind == "widget", things.c.name == bindparam("name")))


@pytest.fixture
def engine(databases: Databases) -> Iterator[Engine]:
    engine = make_engine(databases.create(f"rt_{RUN_ID}_reads_{uuid.uuid4().hex[:8]}"), pool_size=1, max_overflow=0)
    metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(
            things.insert(),
            [
                {"id": 1, "name": "a", "kind": "widget", "due": dt.date(2028, 2, 29), "digest": b"\x00\xff" * 16,
                 "details": {"seats": 3, "tags": ["x"]}},
                {"id": 2, "name": "a", "kind": "gadget", "due": None, "digest": None, "details": None},
            ],
        )  # fmt: skip
    yield engine
    engine.dispose()


def test_hot_select_returns_what_sqlalchemy_returns(engine: Engine) -> None:
    with engine.connect() as connection:
        expected = [connection.execute(BY_ID.statement, {"id": i}).one()._asdict() for i in (1, 2)]
    with ReadSession(engine) as reads:
        got = [reads.execute(BY_ID, {"id": i}).one_or_none()._asdict() for i in (1, 2)]
        assert reads.execute(BY_ID, {"id": 3}).first() is None
        assert reads.scalar(BY_ID, {"id": 2}) == 2
        with pytest.raises(MultipleResultsFound):
            reads.execute(NAMED, {"name": "a"}).one_or_none()
    assert got == expected
    assert got[0]["digest"] == b"\x00\xff" * 16 and got[0]["details"] == {"seats": 3, "tags": ["x"]}


def test_literals_in_the_statement_are_kept(engine: Engine) -> None:
    with ReadSession(engine) as reads:
        assert [row.id for row in execute_select(reads, WIDGETS_NAMED, {"name": "a"}).all()] == [1]
    with engine.connect() as connection:  # elsewhere the same object runs as the Core statement
        assert [row.id for row in execute_select(connection, WIDGETS_NAMED, {"name": "a"}).all()] == [1]


def test_reads_run_in_autocommit_and_the_pool_gets_its_connection_back_as_it_was(engine: Engine) -> None:
    with ReadSession(engine) as reads:
        reads.execute(BY_ID, {"id": 1}).first()
        assert reads._pooled.driver_connection.autocommit is True
    with engine.connect() as connection:  # pool of one: the very connection the ReadSession had
        assert connection.connection.driver_connection.autocommit is False
        connection.execute(things.update().where(things.c.id == 1).values(name="b"))
        connection.rollback()
    with ReadSession(engine) as reads:
        assert reads.execute(BY_ID, {"id": 1}).first().name == "a"


def test_other_statements_move_the_block_onto_one_sqlalchemy_connection(engine: Engine) -> None:
    with ReadSession(engine) as reads:  # a pool of one would block if both were held at once
        assert reads.execute(BY_ID, {"id": 1}).first().name == "a"
        assert reads.execute(text("SELECT count(*) FROM things")).scalar() == 2
        assert reads.execute(BY_ID, {"id": 2}).first().kind == "gadget"


def test_a_lost_connection_is_reported_as_a_disconnect_and_dropped_from_the_pool(engine: Engine) -> None:
    with ReadSession(engine) as reads:
        reads.execute(BY_ID, {"id": 1}).first()
        backend = reads._pooled.driver_connection.info.backend_pid
        outside = make_engine(engine.url.render_as_string(hide_password=False), poolclass=NullPool)
        with outside.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
            other.commit()
        with pytest.raises(DBAPIError) as caught:
            reads.execute(BY_ID, {"id": 1}).first()
        assert caught.value.connection_invalidated
    with ReadSession(engine) as reads:  # a fresh connection, not the dead one
        assert reads.execute(BY_ID, {"id": 1}).first().name == "a"
        assert reads._pooled.driver_connection.info.backend_pid != backend
