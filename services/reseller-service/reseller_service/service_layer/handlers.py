"""One function per use case. Each takes its command, a unit of work and only the adapters it names."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from typing import Any

from renewals_shared.clock import Clock

from reseller_service.domain import commands
from reseller_service.domain.email_address import normalise_email
from reseller_service.domain.model import (
    PASSWORD_RESET_TTL,
    AccountStatus,
    Address,
    BillingEdit,
    ChangeRequest,
    ChangeTopic,
    DomainError,
    Party,
    PasswordReset,
    ResellerAccount,
)
from reseller_service.domain.passwords import password_problems
from reseller_service.domain.vat import vat_id_problem
from reseller_service.service_layer import errors
from reseller_service.service_layer.ports import (
    AttemptLimiter,
    PasswordHasher,
    ResetTokens,
)
from reseller_service.service_layer.unit_of_work import AbstractUnitOfWork


def _registered_data(account: ResellerAccount) -> dict[str, Any]:
    return {
        "reseller_id": account.id,
        "email": account.email,
        "company": account.company,
        "contact_name": account.contact_name,
    }


def _get_for_update(uow: AbstractUnitOfWork, reseller_id: str) -> ResellerAccount:
    account = uow.resellers.get(reseller_id, for_update=True)
    if account is None:
        raise errors.NotFound(f"no reseller {reseller_id}")
    return account


def register_reseller(
    cmd: commands.RegisterReseller,
    uow: AbstractUnitOfWork,
    hasher: PasswordHasher,
    clock: Clock,
) -> str:
    email = normalise_email(cmd.email)
    problems = password_problems(cmd.password, email)
    if problems:
        raise errors.InvalidInput({"password": problems})
    address = Address.from_dict(cmd.billing_address)
    if cmd.vat_id and (problem := vat_id_problem(cmd.vat_id, address.country)):
        raise errors.InvalidInput({"vat_id": [problem]})
    account = ResellerAccount(
        id=str(uuid.uuid4()),
        company=cmd.company,
        contact_name=cmd.contact_name,
        email=email,
        phone=cmd.phone,
        password_hash=hasher.hash(cmd.password),
        billing=Party(
            name=cmd.contact_name,
            company=cmd.company,
            email=email,
            address=address,
            vat_id=cmd.vat_id,
        ),
        created_at=clock.now(),
    )
    with uow:
        if uow.resellers.get_by_email(email) is not None:
            raise errors.EmailTaken(email)
        uow.resellers.add(account)
        uow.publish("reseller.registered", _registered_data(account))
        uow.commit()  # a concurrent duplicate fails on the unique index; the edge maps that to 409 as well
    return account.id


def _failure_keys(email: str, client_address: str) -> tuple[str, str]:
    email_key = hashlib.sha256(email.encode()).hexdigest()[:32]
    return f"auth-fail:account:{email_key}", f"auth-fail:client:{client_address}"


def authenticate(
    cmd: commands.Authenticate,
    uow: AbstractUnitOfWork,
    hasher: PasswordHasher,
    limiter: AttemptLimiter,
    dummy_hash: str,
) -> ResellerAccount:
    """Same answer and about the same work for an unknown email and a wrong password; state only after a match."""
    email = normalise_email(cmd.email)
    account_key, client_key = _failure_keys(email, cmd.client_address)
    attempts = limiter.check([account_key, client_key])
    if attempts.retry_after is not None:
        raise errors.TooManyAttempts(attempts.retry_after)
    with uow.reading():
        account = uow.resellers.get_by_email(email)
    # The hash is checked outside any transaction: argon2id takes tens of milliseconds, and no connection should
    # sit idle in a transaction (or be held from the pool) meanwhile.
    if account is None:
        hasher.verify(dummy_hash, cmd.password)
        limiter.record_failure([account_key, client_key])
        raise errors.InvalidCredentials()
    if not hasher.verify(account.password_hash, cmd.password):
        limiter.record_failure([account_key, client_key])
        raise errors.InvalidCredentials()
    if account_key in attempts.failing:
        # Without failures at the check there is nothing to clear (one Redis round trip less per sign-in); one
        # recorded since then counts as coming after this success, as it could have anyway.
        limiter.clear(account_key)
    if hasher.needs_rehash(account.password_hash):
        with uow:
            locked = uow.resellers.get(account.id, for_update=True)
            if locked is not None and locked.password_hash == account.password_hash:
                locked.rehash(hasher.hash(cmd.password))
                uow.resellers.save(locked)
                uow.commit()
                account = locked
    if account.status is not AccountStatus.APPROVED:
        raise errors.AccountNotActive(account.status.value)
    return account


def approve_reseller(cmd: commands.ApproveReseller, uow: AbstractUnitOfWork, clock: Clock) -> ResellerAccount:
    with uow:
        account = _get_for_update(uow, cmd.reseller_id)
        try:
            account.approve(clock.now(), cmd.discount_bp, cmd.invoice_allowed)
        except DomainError as exc:
            raise errors.Conflict(str(exc)) from None
        uow.resellers.save(account)
        uow.publish(
            "reseller.approved",
            {
                **_registered_data(account),
                "discount_bp": account.discount_bp,
                "invoice_allowed": account.invoice_allowed,
            },
        )
        uow.commit()
        return account


def reject_reseller(cmd: commands.RejectReseller, uow: AbstractUnitOfWork, clock: Clock) -> ResellerAccount:
    with uow:
        account = _get_for_update(uow, cmd.reseller_id)
        try:
            account.reject(clock.now(), cmd.reason)
        except DomainError as exc:
            raise errors.Conflict(str(exc)) from None
        uow.resellers.save(account)
        uow.publish("reseller.rejected", {**_registered_data(account), "reason": cmd.reason})
        uow.commit()
        return account


def suspend_reseller(cmd: commands.SuspendReseller, uow: AbstractUnitOfWork, clock: Clock) -> ResellerAccount:
    with uow:
        account = _get_for_update(uow, cmd.reseller_id)
        try:
            account.suspend(clock.now(), cmd.reason)
        except DomainError as exc:
            raise errors.Conflict(str(exc)) from None
        uow.resellers.save(account)
        uow.publish("reseller.suspended", {**_registered_data(account), "reason": cmd.reason})
        uow.commit()
        return account


def update_billing(cmd: commands.UpdateBilling, uow: AbstractUnitOfWork, clock: Clock) -> ResellerAccount:
    changes = dict(cmd.changes)
    if "email" in changes:
        changes["email"] = normalise_email(changes["email"])
    with uow:
        account = _get_for_update(uow, cmd.reseller_id)
        old, changed = account.update_billing(changes)
        new = account.billing
        if new.vat_id and (problem := vat_id_problem(new.vat_id, new.address.country)):
            raise errors.InvalidInput({"vat_id": [problem]})
        if changed:
            uow.resellers.save(account)
            uow.billing_edits.add(
                BillingEdit(
                    id=str(uuid.uuid4()),
                    reseller_id=account.id,
                    changed_by=cmd.changed_by,
                    changed_at=clock.now(),
                    old=old.to_dict(),
                    new=new.to_dict(),
                    changed_fields=changed,
                )
            )
            uow.publish(
                "reseller.billing_updated",
                {
                    "reseller_id": account.id,
                    "changed_by": cmd.changed_by,
                    "changed_fields": changed,
                },
            )
            uow.commit()
        return account


def request_password_reset(
    cmd: commands.RequestPasswordReset,
    uow: AbstractUnitOfWork,
    tokens: ResetTokens,
    reset_limiter: AttemptLimiter,
    clock: Clock,
) -> str | None:
    """Returns the reset id, or None (unknown email, or too many requests): the caller answers 202 either way."""
    email = normalise_email(cmd.email)
    throttle_key = f"reset-request:{hashlib.sha256(email.encode()).hexdigest()[:32]}"
    if reset_limiter.check([throttle_key]).retry_after is not None:
        return None
    with uow:
        account = uow.resellers.get_by_email(email)
        if account is None:
            return None
        reset_limiter.record_failure([throttle_key])  # counts requests, so one mailbox cannot be flooded
        reset_id, nonce, now = str(uuid.uuid4()), secrets.token_urlsafe(24), clock.now()
        uow.password_resets.add(
            PasswordReset(
                id=reset_id,
                reseller_id=account.id,
                nonce=nonce,
                token_hash=tokens.hash_token(tokens.token_for(reset_id, nonce)),
                created_at=now,
                expires_at=now + PASSWORD_RESET_TTL,
            )
        )
        uow.publish(
            "reseller.password_reset_requested",
            {
                "reseller_id": account.id,
                "reset_id": reset_id,
                "email": account.email,
                "contact_name": account.contact_name,
            },
        )
        uow.commit()
        return reset_id


def complete_password_reset(
    cmd: commands.CompletePasswordReset,
    uow: AbstractUnitOfWork,
    hasher: PasswordHasher,
    tokens: ResetTokens,
    clock: Clock,
) -> None:
    now = clock.now()
    with uow:
        reset = uow.password_resets.get_by_token_hash(tokens.hash_token(cmd.token), for_update=True)
        if reset is None or not reset.usable(now):
            raise errors.InvalidResetToken()
        account = _get_for_update(uow, reset.reseller_id)
        problems = password_problems(cmd.new_password, account.email)
        if problems:
            raise errors.InvalidInput({"new_password": problems})
        account.set_password_hash(hasher.hash(cmd.new_password))
        uow.resellers.save(account)
        for other in [
            reset,
            *(r for r in uow.password_resets.open_for_reseller(account.id) if r.id != reset.id),
        ]:
            other.used_at = now  # this token and every other outstanding one stop working
            uow.password_resets.save(other)
        uow.commit()


def submit_change_request(cmd: commands.SubmitChangeRequest, uow: AbstractUnitOfWork, clock: Clock) -> str:
    email = normalise_email(cmd.reseller_email)
    with uow:
        account = uow.resellers.get_by_email(email)
        request = ChangeRequest(
            id=str(uuid.uuid4()),
            reseller_email=email,
            previous_order_number=cmd.previous_order_number,
            topic=ChangeTopic(cmd.topic),
            message=cmd.message,
            created_at=clock.now(),
            reseller_id=account.id if account else None,
        )
        uow.change_requests.add(request)
        uow.publish(
            "reseller.change_requested",
            {
                "change_request_id": request.id,
                "reseller_id": request.reseller_id,
                "reseller_email": email,
                "previous_order_number": request.previous_order_number,
                "topic": request.topic.value,
                "message": request.message,
            },
        )
        uow.commit()
        return request.id


def close_change_request(cmd: commands.CloseChangeRequest, uow: AbstractUnitOfWork, clock: Clock) -> ChangeRequest:
    with uow:
        request = uow.change_requests.get(cmd.change_request_id, for_update=True)
        if request is None:
            raise errors.NotFound(f"no change request {cmd.change_request_id}")
        try:
            request.close(clock.now(), cmd.closed_by)
        except DomainError as exc:
            raise errors.Conflict(str(exc)) from None
        uow.change_requests.save(request)
        uow.commit()
        return request


HANDLERS: dict[type[commands.Command], Any] = {
    commands.RegisterReseller: register_reseller,
    commands.Authenticate: authenticate,
    commands.ApproveReseller: approve_reseller,
    commands.RejectReseller: reject_reseller,
    commands.SuspendReseller: suspend_reseller,
    commands.UpdateBilling: update_billing,
    commands.RequestPasswordReset: request_password_reset,
    commands.CompletePasswordReset: complete_password_reset,
    commands.SubmitChangeRequest: submit_change_request,
    commands.CloseChangeRequest: close_change_request,
}
