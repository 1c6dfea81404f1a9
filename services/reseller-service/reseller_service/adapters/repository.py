"""Repositories: the only place that knows how accounts, resets, edits and change requests sit in tables."""

from __future__ import annotations

import abc
from typing import Any

from renewals_shared.db import HotStatement, execute_hot
from sqlalchemy import Connection, bindparam, func, insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.orm import Session

from reseller_service.adapters import orm
from reseller_service.domain.model import (
    AccountStatus,
    BillingEdit,
    ChangeRequest,
    ChangeRequestStatus,
    ChangeTopic,
    Party,
    PasswordReset,
    ResellerAccount,
)


class ResellerRepository(abc.ABC):
    @abc.abstractmethod
    def add(self, account: ResellerAccount) -> None: ...

    @abc.abstractmethod
    def get(self, reseller_id: str, *, for_update: bool = False) -> ResellerAccount | None: ...

    @abc.abstractmethod
    def get_by_email(self, email: str, *, for_update: bool = False) -> ResellerAccount | None: ...

    @abc.abstractmethod
    def list(self, status: AccountStatus | None = None) -> list[ResellerAccount]: ...

    @abc.abstractmethod
    def save(self, account: ResellerAccount) -> None: ...


class BillingEditRepository(abc.ABC):
    @abc.abstractmethod
    def add(self, edit: BillingEdit) -> None: ...

    @abc.abstractmethod
    def for_reseller(self, reseller_id: str) -> list[BillingEdit]: ...


class PasswordResetRepository(abc.ABC):
    @abc.abstractmethod
    def add(self, reset: PasswordReset) -> None: ...

    @abc.abstractmethod
    def get(self, reset_id: str) -> PasswordReset | None: ...

    @abc.abstractmethod
    def get_by_token_hash(self, token_hash: str, *, for_update: bool = False) -> PasswordReset | None: ...

    @abc.abstractmethod
    def open_for_reseller(self, reseller_id: str) -> list[PasswordReset]: ...

    @abc.abstractmethod
    def save(self, reset: PasswordReset) -> None: ...


class ChangeRequestRepository(abc.ABC):
    @abc.abstractmethod
    def add(self, request: ChangeRequest) -> None: ...

    @abc.abstractmethod
    def get(self, change_request_id: str, *, for_update: bool = False) -> ChangeRequest | None: ...

    @abc.abstractmethod
    def list(self, status: ChangeRequestStatus | None = None) -> list[ChangeRequest]: ...

    @abc.abstractmethod
    def save(self, request: ChangeRequest) -> None: ...


# --- SQL implementations -------------------------------------------------------------------------------------


def _account_row(account: ResellerAccount) -> dict[str, Any]:
    return {
        "id": account.id,
        "company": account.company,
        "contact_name": account.contact_name,
        "email": account.email,
        "phone": account.phone,
        "password_hash": account.password_hash,
        "status": account.status.value,
        "status_reason": account.status_reason,
        "discount_bp": account.discount_bp,
        "invoice_allowed": account.invoice_allowed,
        "billing": account.billing.to_dict(),
        "session_version": account.session_version,
        "created_at": account.created_at,
        "decided_at": account.decided_at,
    }


def _account(row: Any) -> ResellerAccount:
    return ResellerAccount(
        id=row.id,
        company=row.company,
        contact_name=row.contact_name,
        email=row.email,
        phone=row.phone,
        password_hash=row.password_hash,
        billing=Party.from_dict(row.billing),
        created_at=row.created_at,
        status=AccountStatus(row.status),
        status_reason=row.status_reason,
        discount_bp=row.discount_bp,
        invoice_allowed=row.invoice_allowed,
        session_version=row.session_version,
        decided_at=row.decided_at,
    )


# Built once: every sign-in looks an account up by email, and building the statement costs more than running it.
_BY_EMAIL = HotStatement(select(orm.resellers).where(func.lower(orm.resellers.c.email) == bindparam("email")))
_BY_EMAIL_FOR_UPDATE = _BY_EMAIL.statement.with_for_update()
# and every page a logged-in reseller opens loads the account by id (the gateway and order-service both do)
_BY_ID = HotStatement(select(orm.resellers).where(orm.resellers.c.id == bindparam("id", type_=orm.resellers.c.id.type)))
_BY_ID_FOR_UPDATE = _BY_ID.statement.with_for_update()


class SqlResellerRepository(ResellerRepository):
    def __init__(self, session: Session | Connection) -> None:
        self.session = session

    def add(self, account: ResellerAccount) -> None:
        self.session.execute(insert(orm.resellers).values(**_account_row(account)))

    def _first(self, query: Any, params: dict[str, str]) -> ResellerAccount | None:
        row = execute_hot(self.session, query, params).first()
        return _account(row) if row else None

    def get(self, reseller_id: str, *, for_update: bool = False) -> ResellerAccount | None:
        return self._first(_BY_ID_FOR_UPDATE if for_update else _BY_ID, {"id": reseller_id})

    def get_by_email(self, email: str, *, for_update: bool = False) -> ResellerAccount | None:
        return self._first(_BY_EMAIL_FOR_UPDATE if for_update else _BY_EMAIL, {"email": email.lower()})

    def list(self, status: AccountStatus | None = None) -> list[ResellerAccount]:
        query = select(orm.resellers).order_by(orm.resellers.c.created_at, orm.resellers.c.id)
        if status is not None:
            query = query.where(orm.resellers.c.status == status.value)
        return [_account(row) for row in self.session.execute(query)]

    def save(self, account: ResellerAccount) -> None:
        values = _account_row(account)
        del values["id"], values["created_at"]
        self.session.execute(
            update(orm.resellers).where(orm.resellers.c.id == account.id).values(**values, updated_at=func.now())
        )


class SqlBillingEditRepository(BillingEditRepository):
    def __init__(self, session: Session | Connection) -> None:
        self.session = session

    def add(self, edit: BillingEdit) -> None:
        self.session.execute(
            insert(orm.billing_edits).values(
                id=edit.id,
                reseller_id=edit.reseller_id,
                changed_by=edit.changed_by,
                changed_at=edit.changed_at,
                old=edit.old,
                new=edit.new,
                changed_fields=edit.changed_fields,
            )
        )

    def for_reseller(self, reseller_id: str) -> list[BillingEdit]:
        query = (
            select(orm.billing_edits)
            .where(orm.billing_edits.c.reseller_id == reseller_id)
            .order_by(orm.billing_edits.c.changed_at)
        )
        return [BillingEdit(**dict(row)) for row in self.session.execute(query).mappings()]


def _reset(row: RowMapping) -> PasswordReset:
    return PasswordReset(**dict(row))


class SqlPasswordResetRepository(PasswordResetRepository):
    def __init__(self, session: Session | Connection) -> None:
        self.session = session

    def add(self, reset: PasswordReset) -> None:
        self.session.execute(
            insert(orm.password_resets).values(
                id=reset.id,
                reseller_id=reset.reseller_id,
                nonce=reset.nonce,
                token_hash=reset.token_hash,
                created_at=reset.created_at,
                expires_at=reset.expires_at,
                used_at=reset.used_at,
            )
        )

    def get(self, reset_id: str) -> PasswordReset | None:
        row = self.session.execute(select(orm.password_resets).where(orm.password_resets.c.id == reset_id))
        found = row.mappings().first()
        return _reset(found) if found else None

    def get_by_token_hash(self, token_hash: str, *, for_update: bool = False) -> PasswordReset | None:
        query = select(orm.password_resets).where(orm.password_resets.c.token_hash == token_hash)
        if for_update:
            query = query.with_for_update()
        found = self.session.execute(query).mappings().first()
        return _reset(found) if found else None

    def open_for_reseller(self, reseller_id: str) -> list[PasswordReset]:
        query = select(orm.password_resets).where(
            orm.password_resets.c.reseller_id == reseller_id,
            orm.password_resets.c.used_at.is_(None),
        )
        return [_reset(row) for row in self.session.execute(query).mappings()]

    def save(self, reset: PasswordReset) -> None:
        self.session.execute(
            update(orm.password_resets).where(orm.password_resets.c.id == reset.id).values(used_at=reset.used_at)
        )


def _change_request(row: RowMapping) -> ChangeRequest:
    values = dict(row)
    values["topic"] = ChangeTopic(values["topic"])
    values["status"] = ChangeRequestStatus(values["status"])
    return ChangeRequest(**values)


class SqlChangeRequestRepository(ChangeRequestRepository):
    def __init__(self, session: Session | Connection) -> None:
        self.session = session

    def add(self, request: ChangeRequest) -> None:
        self.session.execute(
            insert(orm.change_requests).values(
                id=request.id,
                reseller_id=request.reseller_id,
                reseller_email=request.reseller_email,
                previous_order_number=request.previous_order_number,
                topic=request.topic.value,
                message=request.message,
                status=request.status.value,
                created_at=request.created_at,
                closed_at=request.closed_at,
                closed_by=request.closed_by,
            )
        )

    def get(self, change_request_id: str, *, for_update: bool = False) -> ChangeRequest | None:
        query = select(orm.change_requests).where(orm.change_requests.c.id == change_request_id)
        if for_update:
            query = query.with_for_update()
        found = self.session.execute(query).mappings().first()
        return _change_request(found) if found else None

    def list(self, status: ChangeRequestStatus | None = None) -> list[ChangeRequest]:
        query = select(orm.change_requests).order_by(orm.change_requests.c.created_at, orm.change_requests.c.id)
        if status is not None:
            query = query.where(orm.change_requests.c.status == status.value)
        return [_change_request(row) for row in self.session.execute(query).mappings()]

    def save(self, request: ChangeRequest) -> None:
        self.session.execute(
            update(orm.change_requests)
            .where(orm.change_requests.c.id == request.id)
            .values(
                status=request.status.value,
                closed_at=request.closed_at,
                closed_by=request.closed_by,
            )
        )
