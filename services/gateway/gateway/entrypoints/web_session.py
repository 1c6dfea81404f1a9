"""Server-side sessions in Redis for Flask.

The cookie carries only a signed random id. The record holds the data plus `created_at`/`last_seen`, so the
server enforces the idle (30 min) and absolute (12 h) limits whatever the browser does. `session.rotate()`
issues a new id (login), `session.end()` deletes the record and the cookie (logout, stale session_version).
A page view that changed nothing writes the record back only when its idle clock is older than the policy's
`refresh_seconds` (one store read per view instead of a read and a write).
"""

from __future__ import annotations

import copy
import logging
import secrets
from collections.abc import Callable
from typing import Any

from flask import Flask, Request, Response
from flask.sessions import SessionInterface, SessionMixin
from itsdangerous import BadSignature, Signer
from werkzeug.datastructures import CallbackDict

from gateway.adapters.session_store import RedisSessionStore
from gateway.domain.session_policy import SessionPolicy

log = logging.getLogger(__name__)


class ServerSession(CallbackDict, SessionMixin):  # type: ignore[type-arg]
    def __init__(
        self,
        initial: dict[str, Any] | None = None,
        sid: str | None = None,
        created_at: float | None = None,
        new: bool = True,
        last_seen: float | None = None,
        cookie: str | None = None,
    ) -> None:
        def on_update(_: Any) -> None:
            self.modified = True

        super().__init__(initial or {}, on_update)
        self.sid = sid
        self.created_at = created_at
        self.new = new
        self.modified = False
        self.rotated = False
        self.ended = False
        self.store_down = False
        self.last_seen = last_seen  # as stored: when the idle clock was last written
        self.cookie = cookie  # the signed id the browser sent (signing is deterministic)
        # what the store holds, to tell whether this request changed anything (nested values included)
        self.stored = copy.deepcopy(initial) if initial else {}

    def rotate(self) -> None:
        """New session id, same data (call at login: defeats session fixation)."""
        self.rotated = True
        self.modified = True

    def end(self) -> None:
        """Forget everything: the record is deleted and the cookie cleared."""
        self.clear()
        self.ended = True
        self.modified = True


def browser_session() -> ServerSession:
    """The current request's session, typed as what it is."""
    from flask import session

    return session  # type: ignore[return-value]


class RedisSessionInterface(SessionInterface):
    def __init__(
        self,
        store: RedisSessionStore,
        secret: str,
        policy: SessionPolicy,
        now: Callable[[], float],
        cookie_name: str,
        secure: bool,
    ) -> None:
        self.store = store
        self.signer = Signer(secret, salt="renewals-gateway-session")
        self.policy = policy
        self.now = now
        self.cookie_name = cookie_name
        self.secure = secure

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        cookie = request.cookies.get(self.cookie_name)
        if not cookie:
            return ServerSession()
        try:
            sid = self.signer.unsign(cookie).decode()
        except BadSignature:
            return ServerSession()
        try:
            record = self.store.load(sid)
        except Exception:  # Redis down: serve the request without a session rather than fail it
            log.warning("session store unavailable", exc_info=True)
            session = ServerSession()
            session.store_down = True
            return session
        if record is None:
            return ServerSession()
        now = self.now()
        created_at = float(record.get("created_at", now))
        last_seen = float(record.get("last_seen", now))
        if self.policy.is_expired(created_at, last_seen, now):
            self._delete(sid)
            return ServerSession()
        return ServerSession(
            record.get("data") or {}, sid=sid, created_at=created_at, new=False, last_seen=last_seen, cookie=cookie
        )

    def _delete(self, sid: str | None) -> None:
        if not sid:
            return
        try:
            self.store.delete(sid)
        except Exception:
            log.warning("session store unavailable", exc_info=True)

    def _clear_cookie(self, response: Response) -> None:
        response.delete_cookie(
            self.cookie_name,
            path="/",
            secure=self.secure,
            httponly=True,
            samesite="Lax",
        )

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        assert isinstance(session, ServerSession)
        if session.store_down:
            return
        if session.ended or (not session and not session.new):
            self._delete(session.sid)
            self._clear_cookie(response)
            return
        if not session:
            return
        now = self.now()
        fresh_id = session.rotated or session.sid is None
        if fresh_id:
            self._delete(session.sid)
            session.sid = secrets.token_urlsafe(32)
            session.created_at = now  # a login starts a new absolute lifetime
            session.rotated = False
        created_at = session.created_at if session.created_at is not None else now
        data = dict(session)
        unchanged = (
            not fresh_id
            and not session.new
            and session.last_seen is not None
            and data == session.stored
            and not self.policy.needs_refresh(session.last_seen, now)
        )
        if not unchanged:
            record = {"data": data, "created_at": created_at, "last_seen": now}
            try:
                self.store.save(session.sid, record, self.policy.remaining_seconds(created_at, now))
            except Exception:
                log.warning("session store unavailable", exc_info=True)
                return
        response.vary.add("Cookie")
        response.set_cookie(
            self.cookie_name,
            session.cookie if unchanged and session.cookie else self.signer.sign(session.sid).decode(),
            path="/",
            secure=self.secure,
            httponly=True,
            samesite="Lax",
        )
