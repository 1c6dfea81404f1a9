"""Load with invariants: 200 concurrent buyers on 200 links (half resellers, half direct customers), plus 50
duplicate Buy Now submissions and 50 double payments; afterwards every service's database and the SMTP sink
must agree exactly. Bounded (loopback, a few dozen threads) so it finishes in a minute or two on 2 cores."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import requests
from journey import add_years, issue_link, license_body, login, ops_post, register_and_approve_reseller
from purchases import (
    dead_letters,
    diagnose,
    new_product,
    pay_direct,
    pay_reseller,
    place_direct_order,
    place_reseller_order,
    query,
    settlement,
    wait_until,
)

BUYERS = 200
DUPLICATE_ORDERS = 50
DOUBLE_PAYMENTS = 50
THREADS = 48


def _prepare(system):
    sku = new_product(system, price=9_900)
    purchase = add_years(dt.date.today() + dt.timedelta(days=20), -2)
    run = uuid.uuid4().hex[:6].upper()
    bodies = [
        license_body(sku, purchase=purchase, end=add_years(purchase, 2), licensee=f"Load {run} {i:03d} GmbH",
                     license_key=f"LOAD-{run}-{i:03d}")
        for i in range(BUYERS)
    ]  # fmt: skip
    response = ops_post(system, "/api/v1/admin/licenses", bodies)
    assert response.status_code in (200, 201) and response.json()["imported"] == BUYERS, response.text[:500]
    ids = dict(
        query(system, "order", "SELECT license_key, id FROM licenses WHERE license_key LIKE :k", k=f"LOAD-{run}-%")
    )
    with ThreadPoolExecutor(16) as pool:
        tokens = list(pool.map(lambda body: issue_link(system, ids[body["license_key"]]), bodies))
    resellers = []
    for _ in range(2):
        email = f"load-{uuid.uuid4().hex[:8]}@acme.example"
        register_and_approve_reseller(system, email)
        resellers += [login(system, email) for _ in range(4)]  # a few browsers per reseller
    return tokens, [ids[b["license_key"]] for b in bodies], resellers


def test_load_with_invariants(system):
    tokens, license_ids, resellers = _prepare(system)
    started = time.monotonic()

    def buy(index: int) -> dict:
        token = tokens[index]
        reseller = resellers[index % len(resellers)] if index % 2 else None
        key = str(uuid.uuid4())
        submissions = 2 if index < DUPLICATE_ORDERS else 1  # the Buy Now button pressed twice
        placed = []
        for _ in range(submissions):
            if reseller is not None:
                placed.append(place_reseller_order(system, reseller, token, key=key))
            else:
                placed.append(place_direct_order(system, token, key=key))
        assert all(p.status_code == 201 for p in placed), [(p.status_code, p.text[:300]) for p in placed]
        numbers = {p.json()["order_number"] for p in placed}
        assert len(numbers) == 1, f"one idempotency key made {numbers}"
        number = numbers.pop()
        payments = 2 if BUYERS - index <= DOUBLE_PAYMENTS else 1  # paid twice, as after a timeout
        paid = []
        for _ in range(payments):
            if reseller is not None:
                paid.append(pay_reseller(system, reseller, number))
            else:
                paid.append(pay_direct(system, number, token))
        assert paid[0].status_code == 200, paid[0].text[:300]
        for extra in paid[1:]:
            assert extra.status_code in (200, 409), extra.text[:300]
        return {"order_number": number, "key": key, "payments": [p.status_code for p in paid]}

    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(buy, range(BUYERS)))
    requests_done = time.monotonic() - started
    numbers = [r["order_number"] for r in results]

    def settled():
        state = settlement(system, numbers)
        return state if state.complete and state.paid == BUYERS else None

    try:
        state = wait_until(settled, timeout=180, interval=2.0, what="every order to settle")
    except AssertionError:
        raise AssertionError(f"not settled: {settlement(system, numbers)}; {diagnose(system, numbers)}") from None
    settled_after = time.monotonic() - started
    time.sleep(3)
    state = settlement(system, numbers)

    # cross-checks in every service's own database
    orders_per_license = query(
        system, "order", "SELECT license_id, count(*) FROM orders WHERE license_id = ANY(:ids) GROUP BY license_id",
        ids=license_ids,
    )  # fmt: skip
    succeeded = query(
        system,
        "order",
        "SELECT order_number, count(*) FROM payments WHERE status = 'succeeded' AND order_number = ANY(:n) "
        "GROUP BY order_number",
        n=numbers,
    )
    links_paid = query(
        system,
        "order",
        "SELECT link_id, count(*) FROM orders WHERE status = 'paid' AND order_number = ANY(:n) GROUP BY link_id",
        n=numbers,
    )
    outbox = {
        service: query(system, service, "SELECT count(*) FROM outbox WHERE published_at IS NULL")[0][0]
        for service in ("order", "token", "reseller")
    }
    unsent = query(
        system, "notifier", "SELECT count(*) FROM email WHERE status <> 'sent' AND context->>'order_number' = ANY(:n)",
        n=numbers,
    )[0][0]  # fmt: skip
    letters = {service: dead_letters(system, service) for service in ("order", "token", "notifier")}
    second_payments = [r["payments"][1] for r in results if len(r["payments"]) > 1]

    print(
        f"\nload: {BUYERS} buyers ({BUYERS // 2} reseller, {BUYERS - BUYERS // 2} direct), "
        f"{DUPLICATE_ORDERS} duplicate Buy Now, {DOUBLE_PAYMENTS} double payments "
        f"(second answered {sorted(set(second_payments))}) on {THREADS} threads\n"
        f"  requests done in {requests_done:.1f} s, everything settled after {settled_after:.1f} s\n"
        f"  orders paid {state.paid} == licenses extended {state.licenses_extended} == links redeemed "
        f"{state.links_redeemed} == order confirmations {state.confirmations_received} (sent log "
        f"{state.confirmations_sent}) == end-customer notices {state.notices_received} (sent log "
        f"{state.notices_sent}); duplicate messages {state.duplicate_messages}\n"
        f"  orders per license max {max(c for _l, c in orders_per_license)}, successful payments per order max "
        f"{max(c for _o, c in succeeded)}, paid orders per link max {max(c for _l, c in links_paid)}\n"
        f"  outbox backlog {outbox}, unsent emails {unsent}, dead letters "
        f"{ {service: len(rows) for service, rows in letters.items()} }"
    )
    assert state.complete and state.paid == BUYERS and state.duplicate_messages == 0, state
    assert len(orders_per_license) == BUYERS and all(count == 1 for _l, count in orders_per_license)
    assert len(succeeded) == BUYERS and all(count == 1 for _o, count in succeeded), "an order was charged twice"
    assert all(count == 1 for _l, count in links_paid), "a link was paid twice"
    assert outbox == {"order": 0, "token": 0, "reseller": 0}
    assert unsent == 0
    assert letters == {"order": [], "token": [], "notifier": []}, letters
    for token in tokens[:5]:
        assert requests.get(f"{system.url()}/api/v1/extensions/{token}", timeout=20).status_code == 410
