"""No raw link token, password, card number or CVC in any log line or any event the journeys published."""

from __future__ import annotations

import json
import re
import uuid

from journey import login, register_and_approve_reseller, text_of, wait_for_mail
from purchases import (
    CARD_CVC,
    CARD_NUMBER,
    buy_direct,
    buyable_link,
    pay_reseller,
    place_reseller_order,
    query,
    wait_until,
)

PASSWORD = "Secret-Reseller-Pass-93"
NEW_PASSWORD = "Secret-Changed-Pass-57"
RESET_LINK = re.compile(r"https?://[^\s\"'<>]+/reseller/password-reset/([A-Za-z0-9_\-]+)")
FORBIDDEN_KEYS = {"password", "new_password", "password_hash", "token", "cvc", "card_number", "number", "pan"}


def _events(system) -> list[dict]:
    envelopes = []
    for service in ("order", "token", "reseller"):
        envelopes += [row[0] for row in query(system, service, "SELECT envelope FROM outbox ORDER BY seq")]
    return envelopes


def _keys(value, found=None) -> set[str]:
    found = set() if found is None else found
    if isinstance(value, dict):
        for key, item in value.items():
            found.add(str(key).lower())
            _keys(item, found)
    elif isinstance(value, list):
        for item in value:
            _keys(item, found)
    return found


def test_logs_and_events_of_the_journeys_hold_no_secret(system):
    # a direct purchase, a reseller purchase, a password reset: every secret goes through the system once
    direct = buyable_link(system)
    buy_direct(system, direct)
    email = f"secrets-{uuid.uuid4().hex[:8]}@acme.example"
    register_and_approve_reseller(system, email, PASSWORD)
    reseller = login(system, email, PASSWORD)
    bought = buyable_link(system)
    placed = place_reseller_order(system, reseller, bought.token)
    assert placed.status_code == 201, placed.text
    assert pay_reseller(system, reseller, placed.json()["order_number"]).status_code == 200
    reseller.post(f"{system.url()}/api/v1/password-resets", json={"email": email}, timeout=20)
    mail = wait_for_mail(system, lambda m: email in str(m["To"]) and RESET_LINK.search(text_of(m)))
    reset_token = RESET_LINK.search(text_of(mail)).group(1)
    import requests

    done = requests.post(
        f"{system.url()}/api/v1/password-resets/complete",
        json={"token": reset_token, "new_password": NEW_PASSWORD},
        timeout=20,
    )
    assert done.status_code == 204, done.text
    wait_until(
        lambda: query(system, "order", "SELECT count(*) FROM outbox WHERE published_at IS NULL")[0][0] == 0,
        what="the order outbox to drain",
    )

    secrets = {
        "direct link token": direct.token,
        "reseller's link token": bought.token,
        "password reset token": reset_token,
        "password": PASSWORD,
        "new password": NEW_PASSWORD,
        "card number": CARD_NUMBER,
        "spaced card number": "4242 4242 4242 4242",
        "service token": system.env["SERVICE_TOKEN"],
        "ops token": system.env["OPS_TOKEN"],
        "link secret": system.env["LINK_SECRET"],
        "session secret": system.env["SESSION_SECRET"],
    }
    logs = system.log_text()
    events = _events(system)
    assert events, "the journeys published events"
    published = json.dumps(events)
    for name, secret in secrets.items():
        assert secret not in logs, f"{name} appears in a log line"
        assert secret not in published, f"{name} appears in an event"
    # the CVC is short: look for it next to a card-ish key rather than anywhere
    assert not re.search(rf"cvc\W{{0,6}}{CARD_CVC}", logs, re.IGNORECASE)
    # ... and as a value of its own in the events (as a substring it shows up by chance in ids and amounts)
    assert CARD_CVC not in {str(value) for value in _leaf_values([e.get("data") for e in events])}
    assert not (_keys(events) & FORBIDDEN_KEYS), _keys(events) & FORBIDDEN_KEYS
    # the sent-mail log holds no password either
    contexts = json.dumps([row[0] for row in query(system, "notifier", "SELECT context FROM email")])
    for name in ("password", "new password", "card number"):
        assert secrets[name] not in contexts, f"{name} stored in an email record"


def _leaf_values(node: object) -> list[object]:
    if isinstance(node, dict):
        return [leaf for value in node.values() for leaf in _leaf_values(value)]
    if isinstance(node, list):
        return [leaf for value in node for leaf in _leaf_values(value)]
    return [node]
