"""The gateway's use cases, shared by the pages and the JSON API.

The gateway owns no business data: each use case asks the owning service and keeps in the session only what
identifies the person (reseller id + session_version) or proves a direct customer's right to an order (the link
token it was bought with).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from gateway.adapters.downstream import DownstreamError
from gateway.domain.session_policy import version_is_stale

RESELLER_KEY = "reseller"
DIRECT_ORDERS_KEY = "direct_orders"
MAX_REMEMBERED_ORDERS = 20


class Session(Protocol):
    """The browser session (the web layer's ServerSession): a dict that can rotate its id and end."""

    def get(self, key: str, default: Any = None) -> Any: ...

    def __contains__(self, key: object) -> bool: ...

    def __delitem__(self, key: str) -> None: ...

    def __setitem__(self, key: str, value: Any) -> None: ...

    def rotate(self) -> None: ...

    def end(self) -> None: ...


@dataclass(frozen=True)
class BuyerProof:
    token: str | None = None
    reseller_id: str | None = None


def login(resellers: Any, session: Session, email: str, password: str) -> dict[str, Any]:
    """Authenticate with reseller-service; on success rotate the session id and remember who logged in.

    Raises DownstreamError: 401 wrong credentials, 403 not approved (`status` in the problem), 429 too many tries.
    """
    account = resellers.authenticate(email, password)
    if "csrf_token" in session:
        del session["csrf_token"]  # a fresh CSRF token for the authenticated session
    session[RESELLER_KEY] = {
        "id": str(account["id"]),
        "session_version": account.get("session_version"),
        "company": account.get("company", ""),
        "email": account.get("email", email),
    }
    session.rotate()
    return account


def logout(session: Session) -> None:
    session.end()


def current_reseller(resellers: Any, session: Session) -> dict[str, Any] | None:
    """The logged-in reseller's account, fresh from reseller-service, or None.

    Ends the session when the account's session_version moved on (password changed) or the account is gone or
    no longer approved.
    """
    stored = session.get(RESELLER_KEY)
    if not stored:
        return None
    try:
        account = resellers.account(stored["id"])
    except DownstreamError as exc:
        if exc.status in (401, 403, 404):
            session.end()
            return None
        raise
    if version_is_stale(stored.get("session_version"), account.get("session_version")):
        session.end()
        return None
    if account.get("status") != "approved":
        session.end()
        return None
    return account


def remember_direct_order(session: Session, order_number: str, token: str) -> None:
    orders = dict(session.get(DIRECT_ORDERS_KEY) or {})
    orders[order_number] = token
    while len(orders) > MAX_REMEMBERED_ORDERS:
        orders.pop(next(iter(orders)))
    session[DIRECT_ORDERS_KEY] = orders


def buyer_proof(session: Session, order_number: str, reseller: dict[str, Any] | None) -> BuyerProof | None:
    """How this browser proves it bought `order_number`: the link token it used, or the reseller id."""
    token = (session.get(DIRECT_ORDERS_KEY) or {}).get(order_number)
    if token:
        return BuyerProof(token=token)
    if reseller:
        return BuyerProof(reseller_id=str(reseller["id"]))
    return None


def place_order(
    orders: Any,
    session: Session,
    token: str,
    term_years: int,
    idempotency_key: str,
    reseller: dict[str, Any] | None,
) -> dict[str, Any]:
    """Order the extension: a reseller buys with its account, anybody else as the link's direct customer."""
    reseller_id = str(reseller["id"]) if reseller else None
    order = orders.place_order(token, term_years, idempotency_key, reseller_id=reseller_id)
    if not reseller_id:
        remember_direct_order(session, str(order["order_number"]), token)
    return order


def pay_order(
    orders: Any,
    order_number: str,
    proof: BuyerProof,
    payment: dict[str, Any],
    idempotency_key: str,
) -> dict[str, Any]:
    return orders.pay(
        order_number,
        payment,
        idempotency_key,
        token=proof.token,
        reseller_id=proof.reseller_id,
    )


def get_order(orders: Any, order_number: str, proof: BuyerProof) -> dict[str, Any]:
    return orders.get_order(order_number, token=proof.token, reseller_id=proof.reseller_id)
