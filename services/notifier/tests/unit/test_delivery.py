"""Sending one recorded email: claim, render, SMTP, mark sent; retries and the reconcile policy."""

from __future__ import annotations

import datetime as dt

import pytest
from notifier.adapters.templates import JinjaRenderer
from notifier.domain.model import Email, EmailStatus, EmailType
from notifier.service_layer.delivery import MailSettings, Outcome, deliver_email
from notifier.service_layer.ports import PermanentDeliveryError, TransientDeliveryError

SETTINGS = MailSettings(
    mail_from="Renewals <no-reply@renewals.example>",
    support_email="support@renewals.example",
    public_base_url="http://renewals.test",
    message_id_domain="renewals.example",
    sending_lease=dt.timedelta(minutes=5),
)
NOW = dt.datetime(2026, 6, 1, 6, tzinfo=dt.UTC)


def deliver(fakes, email_id: int, now: dt.datetime = NOW) -> Outcome:  # type: ignore[no-untyped-def]
    return deliver_email(
        email_id,
        uow_factory=lambda: fakes.uow,
        renderer=JinjaRenderer(),
        mailer=fakes.mailer,
        links=fakes.links,
        resets=fakes.resets,
        settings=SETTINGS,
        now=lambda: now,
        retry_at=lambda attempts: now + dt.timedelta(seconds=10 * attempts),
    )


def record_reset(fakes) -> int:  # type: ignore[no-untyped-def]
    return fakes.repo.add_email(
        Email(
            EmailType.PASSWORD_RESET,
            "anna@reseller.example",
            "password_reset:r-1",
            {"reseller_id": "s-1", "reset_id": "r-1", "email": "anna@reseller.example", "contact_name": "Anna"},
        )
    )


def test_sent_once_with_deterministic_message_id(fakes) -> None:  # type: ignore[no-untyped-def]
    email_id = record_reset(fakes)
    assert deliver(fakes, email_id) == Outcome.SENT
    assert deliver(fakes, email_id) == Outcome.SKIPPED  # a redelivered task
    (message,) = fakes.mailer.sent
    email = fakes.repo.emails[email_id]
    assert email.status == EmailStatus.SENT and email.attempts == 1
    assert email.message_id == message["Message-ID"]
    assert message["To"] == "anna@reseller.example"
    # the reset URL was fetched at send time and never stored
    assert fakes.resets.calls == ["r-1"]
    assert "tok-r-1" in message.get_body(("plain",)).get_content()
    assert "tok-" not in str(email.context)


def test_transient_failure_records_the_attempt_then_succeeds(fakes) -> None:  # type: ignore[no-untyped-def]
    email_id = record_reset(fakes)
    fakes.mailer.failures = [TransientDeliveryError("451 try later")]
    with pytest.raises(TransientDeliveryError):
        deliver(fakes, email_id)
    email = fakes.repo.emails[email_id]
    assert email.status == EmailStatus.PENDING and email.attempts == 1
    assert fakes.repo.next_attempt[email_id] == NOW + dt.timedelta(seconds=10)
    assert deliver(fakes, email_id) == Outcome.SENT
    assert len(fakes.mailer.sent) == 1 and fakes.repo.emails[email_id].attempts == 2


def test_permanent_refusal_is_not_retried(fakes) -> None:  # type: ignore[no-untyped-def]
    email_id = record_reset(fakes)
    fakes.mailer.failures = [PermanentDeliveryError("550 no such user")]
    assert deliver(fakes, email_id) == Outcome.FAILED
    assert deliver(fakes, email_id) == Outcome.SKIPPED
    assert fakes.repo.emails[email_id].status == EmailStatus.FAILED and fakes.mailer.sent == []


def test_live_lease_blocks_a_second_attempt(fakes) -> None:  # type: ignore[no-untyped-def]
    email_id = record_reset(fakes)
    fakes.repo.claim_email(email_id, NOW, dt.timedelta(minutes=5))  # another worker is sending right now
    assert deliver(fakes, email_id, NOW + dt.timedelta(minutes=1)) == Outcome.SKIPPED
    assert fakes.mailer.sent == []


def test_attempt_that_died_before_data_is_retried_after_its_lease(fakes) -> None:  # type: ignore[no-untyped-def]
    email_id = record_reset(fakes)
    fakes.repo.claim_email(email_id, NOW, dt.timedelta(minutes=5))  # claimed, then SIGKILLed before DATA
    assert deliver(fakes, email_id, NOW + dt.timedelta(minutes=6)) == Outcome.SENT
    assert len(fakes.mailer.sent) == 1


def test_attempt_that_died_after_data_started_is_parked_not_resent(fakes) -> None:  # type: ignore[no-untyped-def]
    email_id = record_reset(fakes)
    fakes.mailer.die_after_data_start = True
    with pytest.raises(SystemExit):
        deliver(fakes, email_id)
    fakes.mailer.die_after_data_start = False
    assert deliver(fakes, email_id, NOW + dt.timedelta(minutes=1)) == Outcome.SKIPPED  # lease still live
    assert deliver(fakes, email_id, NOW + dt.timedelta(minutes=6)) == Outcome.UNCERTAIN
    assert fakes.repo.emails[email_id].status == EmailStatus.UNCERTAIN
    assert fakes.mailer.sent == []


def test_reminder_cancelled_when_the_end_date_changed_before_sending(fakes, license_factory) -> None:  # type: ignore[no-untyped-def]
    lic = license_factory(end=dt.date(2026, 7, 1))
    fakes.repo.merge_license(lic)
    email_id = fakes.repo.add_email(
        Email(
            EmailType.EXPIRY_REMINDER,
            lic.contact_email,
            "reminder:lic-1:2026-07-01:-30",
            {
                "license_id": "lic-1",
                "maintenance_end": "2026-07-01",
                "stage": -30,
                "product_name": "Widget Pro",
                "licensee_name": "Acme GmbH",
                "new_maintenance_end": "2027-07-01",
                "link_id": "l",
                "customer_discount_bp": 5000,
                "expires_on": "2027-07-01",
            },
        )
    )
    fakes.repo.merge_license(license_factory(end=dt.date(2027, 7, 1)))
    assert deliver(fakes, email_id) == Outcome.CANCELLED
    assert fakes.mailer.sent == [] and fakes.links.calls == []


def test_reminder_link_fetched_at_send_time(fakes, license_factory) -> None:  # type: ignore[no-untyped-def]
    fakes.repo.merge_license(license_factory(end=dt.date(2026, 7, 1)))
    email_id = fakes.repo.add_email(
        Email(
            EmailType.EXPIRY_REMINDER,
            "it@acme.example",
            "reminder:lic-1:2026-07-01:-30",
            {
                "license_id": "lic-1",
                "maintenance_end": "2026-07-01",
                "stage": -30,
                "product_name": "Widget Pro",
                "licensee_name": "Acme GmbH",
                "new_maintenance_end": "2027-07-01",
                "link_id": "l",
                "customer_discount_bp": 5000,
                "expires_on": "2027-07-01",
            },
        )
    )
    assert deliver(fakes, email_id) == Outcome.SENT
    body = fakes.mailer.sent[0].get_body(("html",)).get_content()
    assert 'href="http://renewals.test/extend/tok-lic-1-2026-07-01"' in body


def test_reminder_with_a_revoked_link_fails_instead_of_sending_a_dead_link(fakes, license_factory) -> None:  # type: ignore[no-untyped-def]
    fakes.repo.merge_license(license_factory(end=dt.date(2026, 7, 1)))
    fakes.links.status = "revoked"
    email_id = fakes.repo.add_email(
        Email(
            EmailType.EXPIRY_REMINDER,
            "it@acme.example",
            "reminder:lic-1:2026-07-01:0",
            {"license_id": "lic-1", "maintenance_end": "2026-07-01", "stage": 0},
        )
    )
    assert deliver(fakes, email_id) == Outcome.FAILED
    assert fakes.mailer.sent == []


def test_an_email_missing_a_fact_fails_instead_of_retrying_forever(fakes) -> None:  # type: ignore[no-untyped-def]
    email_id = fakes.repo.add_email(
        Email(EmailType.RESELLER_APPROVED, "anna@reseller.example", "reseller_approved:e1", {"company": "Resell AG"})
    )
    assert deliver(fakes, email_id) == Outcome.FAILED
    assert fakes.repo.emails[email_id].status == EmailStatus.FAILED
    assert "template" in fakes.repo.errors[email_id] and fakes.mailer.sent == []
