"""Send one recorded email: claim it (status `sending`, attempts + 1, a lease), render, SMTP, mark it `sent`.

Exactly once, and the remaining window: see decide_claim() in domain/model.py and the README.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from renewals_shared.observability import current_correlation_id, get_logger, metrics

from notifier.domain.model import ClaimDecision, Email, EmailStatus, EmailType, LicenseProjection, message_id_for
from notifier.service_layer.ports import (
    LinkIssuer,
    LinkRejected,
    Mailer,
    PermanentDeliveryError,
    RenderedEmail,
    Renderer,
    ResetUrls,
    TransientDeliveryError,
    UnitOfWork,
)

log = get_logger(__name__)


class Outcome(enum.StrEnum):
    SENT = "sent"
    SKIPPED = "skipped"  # already sent/cancelled/failed/uncertain, or another attempt holds the lease
    CANCELLED = "cancelled"
    FAILED = "failed"
    UNCERTAIN = "uncertain"
    MISSING = "missing"


@dataclass(frozen=True)
class MailSettings:
    mail_from: str
    support_email: str
    public_base_url: str
    message_id_domain: str
    sending_lease: dt.timedelta


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def compose(email: Email, rendered: RenderedEmail, settings: MailSettings, now: dt.datetime) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = rendered.subject
    message["From"] = settings.mail_from
    message["To"] = email.recipient
    reply_to = email.context.get("reply_to")
    if reply_to:
        message["Reply-To"] = reply_to
    message["Message-ID"] = message_id_for(email.dedupe_key, settings.message_id_domain)
    message["Date"] = format_datetime(now)
    message["X-Renewals-Email-Type"] = str(email.type)
    message["X-Correlation-ID"] = email.context.get("correlation_id") or current_correlation_id()
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    return message


def _count(email: Email, outcome: Outcome) -> None:
    metrics.emails.labels(str(email.type), str(outcome)).inc()
    if outcome == Outcome.SENT and email.type == EmailType.EXPIRY_REMINDER:
        metrics.reminders_sent.labels(str(email.context.get("stage"))).inc()


def _reminder_still_current(email: Email, license: LicenseProjection | None) -> bool:
    return license is not None and license.maintenance_end.isoformat() == email.context["maintenance_end"]


def _send_time_context(
    email: Email, license: LicenseProjection | None, links: LinkIssuer, resets: ResetUrls
) -> dict[str, Any]:
    """Secrets that are never stored (link and reset URLs) are fetched right before the SMTP send."""
    if email.type == EmailType.EXPIRY_REMINDER:
        assert license is not None
        try:
            link = links.issue(license)  # idempotent: the same link for every stage of the cycle
        except LinkRejected as exc:
            raise PermanentDeliveryError(str(exc)) from None
        if link.status != "active":
            raise PermanentDeliveryError(f"link {link.link_id} is {link.status}")
        return {
            "link_url": link.url,
            "customer_discount_bp": link.customer_discount_bp,
            "expires_on": link.expires_on.isoformat(),
        }
    if email.type == EmailType.PASSWORD_RESET:
        return {"reset_url": resets.url_for(email.context["reset_id"])}
    return {}


def deliver_email(
    email_id: int,
    *,
    uow_factory: Callable[[], UnitOfWork],
    renderer: Renderer,
    mailer: Mailer,
    links: LinkIssuer,
    resets: ResetUrls,
    settings: MailSettings,
    now: Callable[[], dt.datetime] = utc_now,
    retry_at: Callable[[int], dt.datetime] | None = None,
) -> Outcome:
    """Raises TransientDeliveryError after recording the failed attempt (the caller retries with backoff)."""
    with uow_factory() as uow:
        claim = uow.repo.claim_email(email_id, now(), settings.sending_lease)
        uow.commit()
    if claim.decision == ClaimDecision.MISSING:
        return Outcome.MISSING
    if claim.decision == ClaimDecision.NOW_UNCERTAIN:
        log.error("email attempt died after SMTP DATA started; not resent automatically", email_id=email_id)
        metrics.emails.labels(str(claim.email.type) if claim.email else "unknown", str(Outcome.UNCERTAIN)).inc()
        return Outcome.UNCERTAIN
    if claim.decision != ClaimDecision.SEND:
        return Outcome.SKIPPED
    email = claim.email
    assert email is not None

    license = None
    if email.type == EmailType.EXPIRY_REMINDER:
        with uow_factory() as uow:
            license = uow.repo.get_license(email.context["license_id"])
            if not _reminder_still_current(email, license):
                uow.repo.finish(email_id, EmailStatus.CANCELLED, "maintenance end changed before the reminder went out")
                uow.commit()
                _count(email, Outcome.CANCELLED)
                return Outcome.CANCELLED

    def before_data() -> None:
        with uow_factory() as uow:
            uow.repo.mark_data_started(email_id, now())
            uow.commit()

    try:
        extra = _send_time_context(email, license, links, resets)
        context = {
            **email.context,
            **extra,
            "support_email": settings.support_email,
            "base_url": settings.public_base_url,
            "login_url": f"{settings.public_base_url}/reseller/login",
        }
        try:
            rendered = renderer.render(email.type, context)
            message = compose(email, rendered, settings, now())
        except (KeyError, ValueError, TypeError, LookupError) as exc:  # a template/context bug: retrying won't help
            raise PermanentDeliveryError(f"cannot render: {type(exc).__name__}: {exc}") from None
        mailer.send(message, before_data)
    except TransientDeliveryError as exc:
        with uow_factory() as uow:
            uow.repo.mark_attempt_failed(email_id, str(exc), retry_at(email.attempts) if retry_at else now())
            uow.commit()
        metrics.emails.labels(str(email.type), "retry").inc()
        log.warning(
            "email attempt failed; will retry",
            email_id=email_id,
            type=str(email.type),
            attempt=email.attempts,
            error=str(exc),
        )
        raise
    except PermanentDeliveryError as exc:
        with uow_factory() as uow:
            uow.repo.finish(email_id, EmailStatus.FAILED, str(exc))
            uow.commit()
        log.error("email refused for good", email_id=email_id, type=str(email.type), error=str(exc))
        _count(email, Outcome.FAILED)
        return Outcome.FAILED

    with uow_factory() as uow:
        uow.repo.mark_sent(email_id, str(message["Message-ID"]), now())
        uow.commit()
    log.info("email sent", email_id=email_id, type=str(email.type), attempt=email.attempts)
    _count(email, Outcome.SENT)
    return Outcome.SENT
