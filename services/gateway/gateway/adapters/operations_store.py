"""Operations console state in Redis (the gateway has no database): operators, their sessions, the audit log.

Keys (all under `settings.redis_prefix`):
    gateway:ops:user:<email>             JSON {email, password_hash (argon2id), created_at}
    gateway:ops:session:<sid>            JSON {email, csrf, created_at, last_seen}; TTL = the session policy's
    gateway:ops:login-failures:<email>   failed logins in the current window (INCR + EXPIRE)
    gateway:ops:audit                    list, newest first, of JSON {at, actor, action, target, outcome, details}

Operator sessions are separate from reseller sessions: another cookie, another key space, another CSRF token.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from gateway.domain.session_policy import SessionPolicy

AUDIT_MAX_ENTRIES = 100_000
LOGIN_FAILURE_LIMIT = 5
LOGIN_FAILURE_WINDOW_SECONDS = 15 * 60
MIN_PASSWORD_LENGTH = 12


class OperationsRedis(Protocol):
    def get(self, name: str) -> Any: ...

    def set(self, name: str, value: str, ex: int | None = None, nx: bool = False) -> Any: ...

    def delete(self, *names: str) -> Any: ...

    def incr(self, name: str) -> int: ...

    def expire(self, name: str, seconds: int) -> Any: ...

    def lpush(self, name: str, *values: str) -> Any: ...

    def ltrim(self, name: str, start: int, end: int) -> Any: ...

    def lrange(self, name: str, start: int, end: int) -> list[Any]: ...

    def llen(self, name: str) -> int: ...


class OperatorExists(Exception):
    pass


class WeakPassword(ValueError):
    pass


def normalize_email(email: str) -> str:
    return email.strip().lower()


def _load(raw: Any) -> dict[str, Any] | None:
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _dump(value: dict[str, Any]) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def _utc_now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class OperatorAccounts:
    """Operations users with argon2id password hashes; the login check never tells unknown from wrong."""

    def __init__(self, redis: OperationsRedis, prefix: str, hasher: PasswordHasher | None = None) -> None:
        self._redis = redis
        self._prefix = f"{prefix}gateway:ops:"
        self._hasher = hasher or PasswordHasher()  # argon2id, the library's RFC 9106 low-memory profile
        self._dummy_hash: str | None = None

    def _key(self, email: str) -> str:
        return f"{self._prefix}user:{normalize_email(email)}"

    def _failures_key(self, email: str) -> str:
        return f"{self._prefix}login-failures:{normalize_email(email)}"

    def create(self, email: str, password: str, *, replace: bool = False) -> None:
        email = normalize_email(email)
        if "@" not in email or len(email) > 254:
            raise ValueError("an operator is identified by an email address")
        if len(password) < MIN_PASSWORD_LENGTH:
            raise WeakPassword(f"use at least {MIN_PASSWORD_LENGTH} characters")
        record = {"email": email, "password_hash": self._hasher.hash(password), "created_at": _utc_now()}
        if replace:
            self._redis.set(self._key(email), _dump(record))
        elif not self._redis.set(self._key(email), _dump(record), nx=True):
            raise OperatorExists(email)

    def exists(self, email: str) -> bool:
        return self._redis.get(self._key(email)) is not None

    def delete(self, email: str) -> bool:
        return bool(self._redis.delete(self._key(email)))

    def locked_out(self, email: str) -> bool:
        raw = self._redis.get(self._failures_key(email))
        return raw is not None and int(raw) >= LOGIN_FAILURE_LIMIT

    def verify(self, email: str, password: str) -> bool:
        """True for the right password of an existing operator. Unknown emails cost the same hash work."""
        record = _load(self._redis.get(self._key(email)))
        if record is None:
            if self._dummy_hash is None:
                self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(16))
            with contextlib.suppress(VerificationError):
                self._hasher.verify(self._dummy_hash, password)
            self._record_failure(email)
            return False
        try:
            self._hasher.verify(record["password_hash"], password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            self._record_failure(email)
            return False
        self._redis.delete(self._failures_key(email))
        if self._hasher.check_needs_rehash(record["password_hash"]):
            record["password_hash"] = self._hasher.hash(password)
            self._redis.set(self._key(email), _dump(record))
        return True

    def _record_failure(self, email: str) -> None:
        key = self._failures_key(email)
        if self._redis.incr(key) == 1:
            self._redis.expire(key, LOGIN_FAILURE_WINDOW_SECONDS)


@dataclass(frozen=True)
class OperatorSession:
    sid: str
    email: str
    csrf: str
    created_at: float


class OperatorSessions:
    def __init__(
        self,
        redis: OperationsRedis,
        prefix: str,
        policy: SessionPolicy,
        now: Callable[[], float],
    ) -> None:
        self._redis = redis
        self._prefix = f"{prefix}gateway:ops:session:"
        self._policy = policy
        self._now = now

    def start(self, email: str) -> OperatorSession:
        now = self._now()
        session = OperatorSession(secrets.token_urlsafe(32), normalize_email(email), secrets.token_urlsafe(32), now)
        self._save(session, now)
        return session

    def _save(self, session: OperatorSession, now: float) -> None:
        record = {"email": session.email, "csrf": session.csrf, "created_at": session.created_at, "last_seen": now}
        self._redis.set(
            self._prefix + session.sid, _dump(record), ex=self._policy.remaining_seconds(session.created_at, now)
        )

    def resume(self, sid: str) -> OperatorSession | None:
        """The live session for `sid`, its idle clock restarted; None when unknown or past a limit."""
        record = _load(self._redis.get(self._prefix + sid))
        if record is None:
            return None
        now = self._now()
        if self._policy.is_expired(float(record["created_at"]), float(record["last_seen"]), now):
            self.end(sid)
            return None
        session = OperatorSession(sid, str(record["email"]), str(record["csrf"]), float(record["created_at"]))
        self._save(session, now)
        return session

    def end(self, sid: str) -> None:
        self._redis.delete(self._prefix + sid)


class AuditLog:
    """Who did what, when, with which outcome: newest first, capped at AUDIT_MAX_ENTRIES."""

    def __init__(self, redis: OperationsRedis, prefix: str, clock: Callable[[], str] = _utc_now) -> None:
        self._redis = redis
        self._key = f"{prefix}gateway:ops:audit"
        self._clock = clock

    def record(
        self,
        actor: str,
        action: str,
        target: str = "",
        outcome: str = "ok",
        details: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        entry = {
            "at": self._clock(),
            "actor": actor,
            "action": action,
            "target": target,
            "outcome": outcome,
            "details": details or {},
        }
        self._redis.lpush(self._key, _dump(entry))
        self._redis.ltrim(self._key, 0, AUDIT_MAX_ENTRIES - 1)
        return entry

    def latest(self, offset: int = 0, count: int = 100) -> list[dict[str, Any]]:
        rows = self._redis.lrange(self._key, offset, offset + count - 1)
        return [entry for entry in (_load(r) for r in rows) if entry is not None]

    def size(self) -> int:
        return int(self._redis.llen(self._key))


@dataclass(frozen=True)
class OperationsStore:
    operators: OperatorAccounts
    sessions: OperatorSessions
    audit: AuditLog


def operations_store(
    redis: OperationsRedis,
    prefix: str,
    policy: SessionPolicy,
    now: Callable[[], float],
    hasher: PasswordHasher | None = None,
) -> OperationsStore:
    return OperationsStore(
        OperatorAccounts(redis, prefix, hasher),
        OperatorSessions(redis, prefix, policy, now),
        AuditLog(redis, prefix),
    )
