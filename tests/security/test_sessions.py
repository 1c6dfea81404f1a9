"""Sessions, CSRF and redirects: a new id at login, logout and password changes end sessions, idle and absolute
limits hold, cookies are HttpOnly/SameSite, every state change made with a session needs its CSRF token, and
`next` never leaves the site."""

from __future__ import annotations

import json
import re
import time
import uuid
from urllib.parse import urljoin, urlsplit

import pytest
import redis
import requests
from itsdangerous import Signer
from journey import login, register_and_approve_reseller, text_of, wait_for_mail
from purchases import buyable_link, query

COOKIE = "renewals_session"
CSRF_FIELD = re.compile(
    r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"|<input[^>]*value="([^"]+)"[^>]*name="csrf_token"'
)
RESET_LINK = re.compile(r"https?://[^\s\"'<>]+/reseller/password-reset/([A-Za-z0-9_\-]+)")
PASSWORD = "Sturdy-Reseller-Pass-42"


def _reseller(system) -> tuple[str, str]:
    email = f"sess-{uuid.uuid4().hex[:8]}@acme.example"
    return register_and_approve_reseller(system, email, PASSWORD), email


def _authenticated(system, cookie: str) -> bool:
    response = requests.get(f"{system.url()}/api/v1/session", cookies={COOKIE: cookie}, timeout=20)
    return bool(response.json()["authenticated"])


def _csrf_from(page: str) -> str:
    match = CSRF_FIELD.search(page)
    assert match, "no csrf_token field in the form"
    return match.group(1) or match.group(2)


def _store(system) -> tuple[redis.Redis, str]:
    return redis.Redis.from_url(system.env["REDIS_URL"]), f"{system.env['REDIS_PREFIX']}gateway:session:"


def _sid(system, cookie: str) -> str:
    return Signer(system.env["SESSION_SECRET"], salt="renewals-gateway-session").unsign(cookie).decode()


def test_login_issues_a_new_session_id_and_the_old_one_stays_anonymous(system):
    _id, email = _reseller(system)
    browser = requests.Session()
    browser.get(f"{system.url()}/api/v1/session", timeout=20)
    before = browser.cookies.get(COOKIE)
    assert before, "an anonymous session with a CSRF token exists before login"
    csrf = browser.get(f"{system.url()}/api/v1/session", timeout=20).json()["csrf_token"]
    response = browser.post(
        f"{system.url()}/api/v1/session",
        json={"email": email, "password": PASSWORD},
        headers={"X-CSRF-Token": csrf},
        timeout=20,
    )
    assert response.status_code == 200, response.text
    after = browser.cookies.get(COOKIE)
    assert after and _sid(system, after) != _sid(system, before)
    assert _authenticated(system, after) and not _authenticated(system, before)


def test_session_cookie_is_httponly_samesite_and_signed(system):
    _id, email = _reseller(system)
    response = requests.post(f"{system.url()}/api/v1/session", json={"email": email, "password": PASSWORD}, timeout=20)
    set_cookie = response.headers["Set-Cookie"]
    assert set_cookie.startswith(f"{COOKIE}=")
    flags = {part.strip().split("=")[0].lower(): part for part in set_cookie.split(";")}
    assert "httponly" in flags and flags["samesite"].strip().lower() in ("samesite=lax", "samesite=strict")
    assert flags["path"].strip() == "Path=/" and "domain" not in flags
    # over plain http (tests) no Secure flag; with an https PUBLIC_BASE_URL the name becomes __Host-… with Secure
    forged = response.cookies[COOKIE].rsplit(".", 1)[0] + ".forgedsignature"
    assert not _authenticated(system, forged)
    assert not _authenticated(system, "0" * 43)


def test_logout_ends_the_session_on_the_server(system):
    _id, email = _reseller(system)
    session = login(system, email, PASSWORD)
    cookie = session.cookies.get(COOKIE)
    assert _authenticated(system, cookie)
    assert session.delete(f"{system.url()}/api/v1/session", timeout=20).status_code == 204
    assert not _authenticated(system, cookie), "a copied cookie must not outlive the logout"
    assert session.get(f"{system.url()}/api/v1/reseller/account", timeout=20).status_code == 401


def test_a_password_reset_ends_every_session_of_the_account(system):
    _id, email = _reseller(system)
    first, second = login(system, email, PASSWORD), login(system, email, PASSWORD)
    assert requests.post(f"{system.url()}/api/v1/password-resets", json={"email": email}, timeout=20).status_code == 202
    mail = wait_for_mail(system, lambda m: email in str(m["To"]) and RESET_LINK.search(text_of(m)))
    token = RESET_LINK.search(text_of(mail)).group(1)
    done = requests.post(
        f"{system.url()}/api/v1/password-resets/complete",
        json={"token": token, "new_password": "Another-Sturdy-Pass-77"},
        timeout=20,
    )
    assert done.status_code == 204, done.text
    for stale in (first, second):
        assert stale.get(f"{system.url()}/api/v1/reseller/account", timeout=20).status_code == 401
    # the reset link is single-use
    again = requests.post(
        f"{system.url()}/api/v1/password-resets/complete",
        json={"token": token, "new_password": "Third-Sturdy-Pass-99"},
        timeout=20,
    )
    assert again.status_code == 400
    login(system, email, "Another-Sturdy-Pass-77")


@pytest.mark.parametrize("aged", ["last_seen", "created_at"])
def test_idle_and_absolute_limits_are_enforced_by_the_server(system, aged):
    _id, email = _reseller(system)
    session = login(system, email, PASSWORD)
    client, prefix = _store(system)
    key = prefix + _sid(system, session.cookies.get(COOKIE))
    record = json.loads(client.get(key))
    record[aged] = time.time() - (31 * 60 if aged == "last_seen" else 12 * 3600 + 60)
    if aged == "created_at":
        record["last_seen"] = time.time()  # active all along: only the absolute limit applies
    client.set(key, json.dumps(record), ex=600)
    assert session.get(f"{system.url()}/api/v1/reseller/account", timeout=20).status_code == 401
    assert client.get(key) is None


def test_api_calls_with_a_session_need_the_csrf_token(system):
    _id, email = _reseller(system)
    session = login(system, email, PASSWORD)
    link = buyable_link(system)
    good = session.headers.pop("X-CSRF-Token")
    calls = [
        ("post", f"/api/v1/extensions/{link.token}/orders", {"term_years": 1}),
        ("post", "/api/v1/orders/R-0000-000001/payments", {"method": "invoice"}),
        (
            "post",
            "/api/v1/change-requests",
            {"reseller_email": email, "previous_order_number": "X-1", "topic": "other", "message": "hello"},
        ),
        ("post", "/api/v1/password-resets", {"email": email}),
        ("post", "/api/v1/session", {"email": email, "password": PASSWORD}),
        ("delete", "/api/v1/session", None),
    ]
    for method, path, body in calls:
        for header in ({}, {"X-CSRF-Token": "forged"}, {"X-CSRF-Token": good[:-2] + "xx"}):
            response = getattr(session, method)(
                f"{system.url()}{path}",
                json=body,
                headers={"Idempotency-Key": str(uuid.uuid4()), **header},
                timeout=20,
            )
            assert response.status_code == 403, (method, path, header, response.status_code, response.text)
    assert query(system, "order", "SELECT count(*) FROM orders WHERE license_id = :id", id=link.license_id)[0][0] == 0
    assert session.get(f"{system.url()}/api/v1/reseller/account", timeout=20).status_code == 200  # still logged in
    # a token from another session does not work either
    other = login(system, email, PASSWORD)
    stolen = session.delete(f"{system.url()}/api/v1/session", headers={"X-CSRF-Token": other.headers["X-CSRF-Token"]})
    assert stolen.status_code == 403


def test_forms_without_a_valid_csrf_token_change_nothing(system):
    _id, email = _reseller(system)
    link = buyable_link(system)
    browser = requests.Session()
    browser.get(f"{system.url()}/reseller/login", timeout=20)  # a session exists
    forms = {
        "/reseller/login": {"email": email, "password": PASSWORD},
        "/reseller/logout": {},
        "/reseller/register": {
            "company": "X",
            "contact_name": "Y",
            "email": f"x{uuid.uuid4().hex[:6]}@x.example",
            "password": PASSWORD,
            "confirm": PASSWORD,
            "phone": "+49 1234567",
            "line1": "a",
            "postal_code": "1",
            "city": "c",
            "country": "DE",
        },
        "/reseller/password-reset": {"email": email},
        "/reseller/password-reset/sometoken": {"new_password": PASSWORD, "confirm": PASSWORD},
        "/support/change-request": {
            "reseller_email": email,
            "previous_order_number": "X-1",
            "topic": "other",
            "message": "hello",
        },
        f"/extend/{link.token}/order": {"term_years": "1", "idempotency_key": uuid.uuid4().hex},
        "/orders/R-0000-000001/pay": {"method": "card", "idempotency_key": uuid.uuid4().hex},
    }
    for path, data in forms.items():
        for token in (None, "forged-token"):
            body = dict(data, **({"csrf_token": token} if token else {}))
            response = browser.post(f"{system.url()}{path}", data=body, allow_redirects=False, timeout=20)
            assert response.status_code in (400, 403, 404), (path, response.status_code)
            assert response.status_code != 200
    assert not browser.get(f"{system.url()}/api/v1/session", timeout=20).json()["authenticated"]
    assert query(system, "order", "SELECT count(*) FROM orders WHERE license_id = :id", id=link.license_id)[0][0] == 0
    # with the form's own token the login works (the refusals above were the token's doing)
    page = browser.get(f"{system.url()}/reseller/login", timeout=20).text
    ok = browser.post(
        f"{system.url()}/reseller/login",
        data={"email": email, "password": PASSWORD, "csrf_token": _csrf_from(page)},
        allow_redirects=False,
        timeout=20,
    )
    assert ok.status_code == 303


EVIL_NEXT = [
    "https://evil.example/",
    "//evil.example/path",
    "/\\evil.example",
    "\\\\evil.example",
    "http:evil.example",
    "javascript:alert(1)",
    "/%2F%2Fevil.example",
    "https:/evil.example",
    " //evil.example",
    "/\t/evil.example",
]


@pytest.mark.parametrize("target", EVIL_NEXT)
def test_login_never_redirects_off_site(system, target):
    _id, email = _reseller(system)
    browser = requests.Session()
    page = browser.get(f"{system.url()}/reseller/login", params={"next": target}, timeout=20).text
    response = browser.post(
        f"{system.url()}/reseller/login",
        data={"email": email, "password": PASSWORD, "csrf_token": _csrf_from(page), "next": target},
        allow_redirects=False,
        timeout=20,
    )
    assert response.status_code == 303, response.text[:300]
    location = response.headers["Location"]
    resolved = urlsplit(urljoin(system.url() + "/reseller/login", location))
    assert resolved.netloc == urlsplit(system.url()).netloc and resolved.scheme == "http", location
    assert location.startswith("/") and not location.startswith("//") and "\\" not in location, location


def test_login_returns_to_a_same_site_next(system):
    _id, email = _reseller(system)
    browser = requests.Session()
    target = "/extend/sometoken?term=2"
    page = browser.get(f"{system.url()}/reseller/login", params={"next": target}, timeout=20).text
    response = browser.post(
        f"{system.url()}/reseller/login",
        data={"email": email, "password": PASSWORD, "csrf_token": _csrf_from(page), "next": target},
        allow_redirects=False,
        timeout=20,
    )
    assert response.headers["Location"].endswith(target)
