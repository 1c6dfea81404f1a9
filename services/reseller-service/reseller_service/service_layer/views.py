"""Read side: what the API shows. Reads go through the unit of work but never commit."""

from __future__ import annotations

import datetime as dt
from typing import Any

from reseller_service.domain.model import (
    AccountStatus,
    ChangeRequest,
    ChangeRequestStatus,
    ResellerAccount,
)
from reseller_service.service_layer import errors
from reseller_service.service_layer.ports import ResetTokens
from reseller_service.service_layer.unit_of_work import AbstractUnitOfWork


def account_view(account: ResellerAccount) -> dict[str, Any]:
    """The Account shape of docs/internal-api.md."""
    return {
        "id": account.id,
        "company": account.company,
        "contact_name": account.contact_name,
        "email": account.email,
        "phone": account.phone,
        "status": account.status.value,
        "discount_bp": account.reseller_discount_bp,
        "invoice_allowed": account.invoice_allowed and account.status is AccountStatus.APPROVED,
        "billing": account.billing.to_dict(),
        "session_version": account.session_version,
    }


def admin_account_view(account: ResellerAccount) -> dict[str, Any]:
    """Operations also see the configured discount, the reason of the last decision and the dates."""
    return {
        **account_view(account),
        "configured_discount_bp": account.discount_bp,
        "configured_invoice_allowed": account.invoice_allowed,
        "status_reason": account.status_reason,
        "created_at": account.created_at.isoformat(),
        "decided_at": account.decided_at.isoformat() if account.decided_at else None,
    }


def change_request_view(request: ChangeRequest) -> dict[str, Any]:
    return {
        "id": request.id,
        "reseller_id": request.reseller_id,
        "reseller_email": request.reseller_email,
        "previous_order_number": request.previous_order_number,
        "topic": request.topic.value,
        "message": request.message,
        "status": request.status.value,
        "created_at": request.created_at.isoformat(),
        "closed_at": request.closed_at.isoformat() if request.closed_at else None,
        "closed_by": request.closed_by,
    }


def reseller(reseller_id: str, uow: AbstractUnitOfWork) -> dict[str, Any]:
    with uow.reading():
        account = uow.resellers.get(reseller_id)
        if account is None:
            raise errors.NotFound(f"no reseller {reseller_id}")
        return account_view(account)


def resellers(status: AccountStatus | None, uow: AbstractUnitOfWork) -> list[dict[str, Any]]:
    with uow:
        return [admin_account_view(a) for a in uow.resellers.list(status)]


def change_requests(status: ChangeRequestStatus | None, uow: AbstractUnitOfWork) -> list[dict[str, Any]]:
    with uow:
        return [change_request_view(r) for r in uow.change_requests.list(status)]


def password_reset_token(reset_id: str, uow: AbstractUnitOfWork, tokens: ResetTokens, now: dt.datetime) -> str:
    """The raw token of a usable reset, re-derived from the server secret (never read from the database)."""
    with uow:
        reset = uow.password_resets.get(reset_id)
        if reset is None:
            raise errors.NotFound(f"no password reset {reset_id}")
        if not reset.usable(now):
            raise errors.Gone("this password reset is used or expired")
        for token in tokens.candidate_tokens(reset.id, reset.nonce):
            if tokens.hash_token(token) == reset.token_hash:
                return token
        raise errors.Gone("this password reset was issued under a retired secret")


def billing_edits(reseller_id: str, uow: AbstractUnitOfWork) -> list[dict[str, Any]]:
    with uow:
        if uow.resellers.get(reseller_id) is None:
            raise errors.NotFound(f"no reseller {reseller_id}")
        return [
            {
                "id": e.id,
                "changed_by": e.changed_by,
                "changed_at": e.changed_at.isoformat(),
                "changed_fields": e.changed_fields,
                "old": e.old,
                "new": e.new,
            }
            for e in uow.billing_edits.for_reseller(reseller_id)
        ]
