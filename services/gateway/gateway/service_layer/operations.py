"""Operations console use cases: operator sign-in/out and running any console action under the audit log.

Every action is written to the audit log with who, when, what and how it ended, whether it worked or not.
No secret goes into an entry: no password, no raw extension token (a link is named by its link_id).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from gateway.adapters.downstream import DownstreamError, ServiceDown
from gateway.adapters.operations_store import OperationsStore, OperatorSession, normalize_email

T = TypeVar("T")


class SignInRefused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # "invalid" (wrong email or password) or "locked" (too many failures)


def sign_in(store: OperationsStore, email: str, password: str) -> OperatorSession:
    email = normalize_email(email)[:254]
    if store.operators.locked_out(email):
        store.audit.record(email, "login", outcome="refused: too many failed attempts")
        raise SignInRefused("locked")
    if not store.operators.verify(email, password):
        store.audit.record(email, "login", outcome="failed: wrong email or password")
        raise SignInRefused("invalid")
    session = store.sessions.start(email)
    store.audit.record(email, "login")
    return session


def sign_out(store: OperationsStore, session: OperatorSession) -> None:
    store.sessions.end(session.sid)
    store.audit.record(session.email, "logout")


def outcome_of(exc: Exception) -> str:
    if isinstance(exc, DownstreamError):
        title = exc.problem.get("title") or "refused"
        detail = exc.detail if exc.detail and exc.detail != title else ""
        return f"failed: {exc.service} {exc.status} {title}{': ' + detail if detail else ''}"[:500]
    if isinstance(exc, ServiceDown):
        return f"failed: {exc.service} unavailable"
    return f"failed: {type(exc).__name__}"


def audited(
    store: OperationsStore,
    actor: str,
    action: str,
    target: str,
    call: Callable[[], T],
    details: dict[str, Any] | None = None,
    summarize: Callable[[T], dict[str, Any]] | None = None,
) -> T:
    """Run `call`, then record it; a failure is recorded too and re-raised for the page to explain."""
    try:
        result = call()
    except Exception as exc:
        store.audit.record(actor, action, target, outcome_of(exc), details)
        raise
    extra = summarize(result) if summarize else {}
    store.audit.record(actor, action, target, "ok", {**(details or {}), **extra})
    return result
