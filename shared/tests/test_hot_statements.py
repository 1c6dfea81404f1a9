"""HotStatement, ReadSession and WriteSession on a real PostgreSQL: the same rows and the same stored values as
SQLAlchemy, autocommit only while reading, queued writes sent in order with the next statement or the commit, and
errors (a lost connection, a constraint) reported as SQLAlchemy reports them for its own statements."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator

import pytest
from psycopg.pq import TransactionStatus
from renewals_shared.db import HotStatement, ReadSession, WriteSession, execute_hot, make_engine, queue_write
from renewals_shared.testing import RUN_ID, Databases
from sqlalchemy import (
    Column,
    Date,
    Engine,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    bindparam,
    func,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import DBAPIError, IntegrityError, MultipleResultsFound
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
BY_ID = HotStatement(select(things).where(things.c.id == bindparam("id")))
NAMED = HotStatement(select(things.c.id).where(things.c.name == bindparam("name")))
WIDGETS_NAMED = HotStatement(select(things.c.id).where(things.c.kind == "widget", things.c.name == bindparam("name")))
ADD = HotStatement(things.insert(), columns=("id", "name", "kind", "due", "details"))
RENAME = HotStatement(update(things).where(things.c.id == bindparam("b_id")), columns=("name",))
COUNT = HotStatement(select(func.count()).select_from(things))


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
        assert [row.id for row in execute_hot(reads, WIDGETS_NAMED, {"name": "a"}).all()] == [1]
    with engine.connect() as connection:  # elsewhere the same object runs as the Core statement
        assert [row.id for row in execute_hot(connection, WIDGETS_NAMED, {"name": "a"}).all()] == [1]


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


def _committed_rows(engine: Engine) -> dict[int, tuple[str, object, bool]]:
    """id -> (name, details, whether details is SQL NULL), as another connection sees them."""
    outside = make_engine(engine.url.render_as_string(hide_password=False), poolclass=NullPool)
    with outside.connect() as other:
        query = select(things.c.id, things.c.name, things.c.details, things.c.details.is_(None).label("sql_null"))
        rows = {row.id: (row.name, row.details, row.sql_null) for row in other.execute(query)}
    outside.dispose()
    return rows


AWKWARD = {"note": "50 % off, 'quoted', \\ back\\slash, %(name)s, ümlaut", "n": None, "list": [1, "two"]}


def test_queued_writes_store_what_sqlalchemy_stores_and_go_out_with_the_commit(engine: Engine) -> None:
    with engine.begin() as connection:  # the reference: SQLAlchemy's own INSERT of the same values
        connection.execute(ADD.statement, {"id": 10, "name": "ref", "kind": "k", "due": None, "details": AWKWARD})
        connection.execute(ADD.statement, {"id": 11, "name": "ref-null", "kind": "k", "due": None, "details": None})
    with WriteSession(engine) as writes:
        queue_write(writes, ADD, {"id": 20, "name": "100% 'odd' %s", "kind": "k", "due": None, "details": AWKWARD})
        queue_write(writes, ADD, [{"id": 21 + i, "name": f"many-{i}", "kind": "k", "due": None, "details": None}
                                  for i in range(2)])  # fmt: skip
        assert writes.connection.connection.driver_connection.info.transaction_status == TransactionStatus.IDLE
        writes.commit()  # nothing was sent before: not even a BEGIN
    rows = _committed_rows(engine)
    assert rows[20] == ("100% 'odd' %s", AWKWARD, False) and rows[20][1] == rows[10][1]
    assert rows[21][1:] == rows[11][1:] == (None, False)  # None is JSON null, as SQLAlchemy's JSON type stores it
    assert rows[22][0] == "many-1"


def test_a_statement_sees_the_writes_queued_before_it(engine: Engine) -> None:
    with WriteSession(engine) as writes:
        queue_write(writes, ADD, {"id": 30, "name": "new", "kind": "k", "due": None, "details": None})
        queue_write(writes, RENAME, {"b_id": 30, "name": "renamed"})
        assert execute_hot(writes, BY_ID, {"id": 30}).first().name == "renamed"
        assert writes.execute(text("SELECT count(*) FROM things")).scalar() == 3  # SQLAlchemy's path, same transaction
        writes.rollback()
    assert 30 not in _committed_rows(engine)


def test_a_failing_queued_write_raises_at_commit_and_nothing_is_written(engine: Engine) -> None:
    with WriteSession(engine) as writes:
        queue_write(writes, ADD, {"id": 40, "name": "fine", "kind": "k", "due": None, "details": None})
        queue_write(writes, ADD, {"id": 1, "name": "duplicate key", "kind": "k", "due": None, "details": None})
        with pytest.raises(IntegrityError):
            writes.commit()
    assert set(_committed_rows(engine)) == {1, 2}
    with WriteSession(engine) as writes:  # the pool's only connection is usable again
        assert writes.execute(COUNT, {}).scalar_one() == 2


def test_a_connection_lost_before_the_commit_is_reported_as_a_disconnect(engine: Engine) -> None:
    with WriteSession(engine) as writes:
        backend = writes.execute(text("SELECT pg_backend_pid()")).scalar()
        queue_write(writes, ADD, {"id": 50, "name": "lost", "kind": "k", "due": None, "details": None})
        outside = make_engine(engine.url.render_as_string(hide_password=False), poolclass=NullPool)
        with outside.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
            other.commit()
        with pytest.raises(DBAPIError) as caught:
            writes.commit()
        assert caught.value.connection_invalidated
    assert 50 not in _committed_rows(engine)
    with WriteSession(engine) as writes:
        assert writes.execute(COUNT, {}).scalar_one() == 2


def test_every_statement_of_a_write_session_is_in_its_transaction_whatever_runs_first(engine: Engine) -> None:
    with WriteSession(engine) as writes:  # SQLAlchemy's path first: the BEGIN must go out before it
        writes.execute(things.insert(), {"id": 60, "name": "core", "kind": "k"})
        queue_write(writes, ADD, {"id": 61, "name": "queued", "kind": "k", "due": None, "details": None})
        writes.rollback()
        assert writes.execute(COUNT, {}).scalar_one() == 2  # a new transaction, after the rolled back one
        writes.execute(RENAME, {"b_id": 1, "name": "renamed"})
        writes.rollback()
    assert _committed_rows(engine)[1][0] == "a"
    with WriteSession(engine) as writes:  # a hot statement first, then SQLAlchemy's, then the commit
        writes.execute(RENAME, {"b_id": 1, "name": "kept"})
        writes.execute(things.insert(), {"id": 62, "name": "core", "kind": "k"})
        backend = writes.execute(text("SELECT pg_backend_pid()")).scalar()
        assert 62 not in _committed_rows(engine)
        writes.commit()
    rows = _committed_rows(engine)
    assert rows[1][0] == "kept" and 62 in rows and 60 not in rows and 61 not in rows
    with engine.connect() as connection:  # the pool's only connection, handed back as the pool gave it
        assert connection.connection.driver_connection.info.backend_pid == backend
        assert connection.connection.driver_connection.autocommit is False
