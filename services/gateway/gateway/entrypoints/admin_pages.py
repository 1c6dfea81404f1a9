"""The operations console at /admin: its own login (argon2id operators in Redis), session cookie, CSRF token
and audit log, separate from the reseller portal's.

Every POST needs the operator session's CSRF token (checked before any view runs); every POST that changes
something, and every sign-in attempt, is written to the audit log (/admin/audit).
"""

from __future__ import annotations

import hmac
import logging
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from itsdangerous import BadSignature, Signer

from gateway.adapters.downstream import DownstreamError, ServiceDown
from gateway.adapters.operations_client import DEAD_LETTER_SERVICES, OperationsClient
from gateway.adapters.operations_store import OperationsStore, OperatorSession, operations_store
from gateway.bootstrap import Gateway
from gateway.domain.navigation import safe_next
from gateway.entrypoints.admin_forms import (
    ApproveForm,
    BillingForm,
    OperatorLoginForm,
    PriceListForm,
    RejectForm,
    ReminderScanForm,
    SuspendForm,
)
from gateway.service_layer import operations

log = logging.getLogger(__name__)
blueprint = Blueprint("admin", __name__, url_prefix="/admin")

HOME = "/admin/"
PUBLIC_ENDPOINTS = {"admin.login"}
RESELLER_STATUSES = ("pending", "approved", "rejected", "suspended")
AUDIT_PAGE = 100
LOGIN_NONCE_SECONDS = 3600


@dataclass(frozen=True)
class Console:
    store: OperationsStore
    client: OperationsClient
    secret: str
    secure: bool

    @property
    def cookie_name(self) -> str:
        return "__Host-renewals_ops" if self.secure else "renewals_ops"

    @property
    def login_cookie_name(self) -> str:
        return "__Host-renewals_ops_login" if self.secure else "renewals_ops_login"

    @property
    def session_signer(self) -> Signer:
        return Signer(self.secret, salt="renewals-gateway-ops-session")

    @property
    def login_signer(self) -> Signer:
        return Signer(self.secret, salt="renewals-gateway-ops-login-csrf")


def build_console(
    gateway: Gateway, store: OperationsStore | None = None, client: OperationsClient | None = None
) -> Console:
    return Console(
        store=store
        or operations_store(
            gateway.redis, gateway.settings.redis_prefix, gateway.session_policy, gateway.session_clock
        ),
        client=client or OperationsClient(gateway.orders, gateway.tokens, gateway.resellers, gateway.notifier),
        secret=gateway.settings.session_secret,
        secure=gateway.config.cookie_secure,
    )


def console() -> Console:
    """The app's console, built on first use from the gateway's adapters (tests put their own in first)."""
    found = current_app.extensions.get("operations_console")
    if found is None:
        found = build_console(current_app.extensions["gateway"])
        current_app.extensions["operations_console"] = found
    return found  # type: ignore[no-any-return]


def operator() -> OperatorSession:
    return g.operator_session  # type: ignore[no-any-return]


# --- guard: session, CSRF ---------------------------------------------------------------------------------------


def _session_from_cookie(c: Console) -> OperatorSession | None:
    cookie = request.cookies.get(c.cookie_name)
    if not cookie:
        return None
    try:
        sid = c.session_signer.unsign(cookie).decode()
    except BadSignature:
        return None
    return c.store.sessions.resume(sid)


@blueprint.before_request
def guard() -> Any:
    c = console()
    try:
        session = _session_from_cookie(c)
    except Exception:
        log.warning("operations store unavailable", exc_info=True)
        return render_template("admin/error.html", title="Console unavailable", detail="Redis is not answering."), 503
    g.operator_session = session
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if session is None:
        target = url_for("admin.login", next=request.full_path.rstrip("?"))
        return redirect(target, code=303)
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        presented = request.form.get("csrf_token", "")
        if not presented or not hmac.compare_digest(presented.encode(), session.csrf.encode()):
            c.store.audit.record(session.email, "csrf_rejected", request.path, outcome="refused")
            return (
                render_template(
                    "admin/error.html",
                    title="This form has expired",
                    detail="The security token of the form did not match. Reload the page and try again.",
                ),
                400,
            )
    return None


@blueprint.context_processor
def console_context() -> dict[str, Any]:
    session = g.get("operator_session")
    return {"operator": session.email if session else None, "ops_csrf": session.csrf if session else ""}


@blueprint.errorhandler(ServiceDown)
def on_service_down(exc: ServiceDown) -> Any:
    body = render_template(
        "admin/error.html", title="Service unavailable", detail=f"{exc.service} is not answering; try again shortly."
    )
    return Response(body, 503, headers={"Retry-After": "5"}, mimetype="text/html")


@blueprint.errorhandler(DownstreamError)
def on_downstream(exc: DownstreamError) -> Any:
    title = exc.problem.get("title") or "Error"
    return render_template("admin/error.html", title=f"{exc.service}: {title}", detail=exc.detail), exc.status


def _act(
    action: str,
    target: str,
    call: Any,
    details: dict[str, Any] | None = None,
    done: str = "",
    summarize: Any = None,
) -> Any:
    """Run a console action under the audit log; flash how it went. Returns the result or None on failure."""
    try:
        result = operations.audited(console().store, operator().email, action, target, call, details, summarize)
    except (DownstreamError, ServiceDown) as exc:
        flash(_explain(exc), "error")
        return None
    if done:
        flash(done, "info")
    return result if result is not None else {}


def _explain(exc: Exception) -> str:
    if isinstance(exc, ServiceDown):
        return f"{exc.service} is not answering; nothing was changed. Try again shortly."
    assert isinstance(exc, DownstreamError)
    title = exc.problem.get("title") or "refused"
    errors = "; ".join(f"{k}: {', '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in exc.errors.items())
    detail = f": {exc.detail}" if exc.detail and exc.detail != title else ""
    return f"{exc.service} refused ({exc.status} {title}){detail}{' ' + errors if errors else ''}"


def _back(endpoint: str, **values: Any) -> Response:
    return redirect(url_for(endpoint, **values), code=303)


# --- login / logout ---------------------------------------------------------------------------------------------


def _login_page(form: OperatorLoginForm, error: str | None, status: int) -> Response:
    c = console()
    nonce = secrets.token_urlsafe(16)
    body = render_template(
        "admin/login.html", form=form, login_error=error, login_csrf=c.login_signer.get_signature(nonce).decode()
    )
    response = Response(body, status, mimetype="text/html")
    response.set_cookie(
        c.login_cookie_name,
        nonce,
        max_age=LOGIN_NONCE_SECONDS,
        path="/",
        secure=c.secure,
        httponly=True,
        samesite="Strict",
    )
    return response


def _login_csrf_ok(c: Console) -> bool:
    nonce = request.cookies.get(c.login_cookie_name, "")
    presented = request.form.get("csrf_token", "")
    return bool(nonce and presented) and c.login_signer.verify_signature(nonce.encode(), presented.encode())


def _next_path(raw: str | None) -> str:
    path = safe_next(raw, HOME)
    return path if path.startswith("/admin") else HOME


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> Any:
    c = console()
    form = OperatorLoginForm(request.form if request.method == "POST" else None)
    if request.method == "GET":
        if g.operator_session is not None:
            return redirect(_next_path(request.args.get("next")), code=303)
        form.next.data = _next_path(request.args.get("next"))
        return _login_page(form, None, 200)
    if not _login_csrf_ok(c):
        c.store.audit.record((form.email.data or "")[:254], "csrf_rejected", request.path, outcome="refused")
        return _login_page(form, "The form expired. Please sign in again.", 400)
    if not form.validate():
        return _login_page(form, None, 422)
    try:
        session = operations.sign_in(c.store, form.email.data, form.password.data)
    except operations.SignInRefused as exc:
        if exc.reason == "locked":
            return _login_page(form, "Too many failed attempts. Wait 15 minutes and try again.", 429)
        return _login_page(form, "The email or the password is wrong.", 401)
    if g.operator_session is not None:
        c.store.sessions.end(g.operator_session.sid)  # a login always starts a new session id
    response = redirect(_next_path(form.next.data), code=303)
    response.set_cookie(
        c.cookie_name,
        c.session_signer.sign(session.sid).decode(),
        path="/",
        secure=c.secure,
        httponly=True,
        samesite="Strict",
    )
    response.delete_cookie(c.login_cookie_name, path="/", secure=c.secure, httponly=True, samesite="Strict")
    return response


@blueprint.post("/logout")
def logout() -> Any:
    c = console()
    operations.sign_out(c.store, operator())
    response = redirect(url_for("admin.login"), code=303)
    response.delete_cookie(c.cookie_name, path="/", secure=c.secure, httponly=True, samesite="Strict")
    return response


@blueprint.get("/")
def home() -> Any:
    return render_template("admin/home.html", services=DEAD_LETTER_SERVICES)


# --- resellers: approval, accounts, billing -----------------------------------------------------------------------


@blueprint.get("/resellers")
def resellers() -> Any:
    status = request.args.get("status", "pending")
    if status not in (*RESELLER_STATUSES, "all"):
        status = "pending"
    accounts = console().client.resellers_by_status(None if status == "all" else status)
    return render_template(
        "admin/resellers.html",
        accounts=accounts,
        status=status,
        statuses=RESELLER_STATUSES,
        approve_form=ApproveForm(),
        reject_form=RejectForm(),
    )


@blueprint.get("/resellers/<reseller_id>")
def reseller(reseller_id: str) -> Any:
    client = console().client
    account = client.reseller(reseller_id)
    billing_form = BillingForm()
    billing_form.fill(account.get("billing") or {})
    return _reseller_page(account, billing_form, 200)


def _reseller_page(account: dict[str, Any], billing_form: BillingForm, status: int) -> Any:
    edits = console().client.billing_edits(account["id"])
    return (
        render_template(
            "admin/reseller.html",
            account=account,
            edits=edits,
            billing_form=billing_form,
            approve_form=ApproveForm(data={"discount_bp": account.get("discount_bp")}),
            reject_form=RejectForm(),
            suspend_form=SuspendForm(),
        ),
        status,
    )


@blueprint.post("/resellers/<reseller_id>/approve")
def approve(reseller_id: str) -> Any:
    form = ApproveForm(request.form)
    if not form.validate():
        flash("The discount must be between 0 and 10000 basis points.", "error")
    else:
        details = {"discount_bp": form.discount_bp.data, "invoice_allowed": form.invoice_allowed.data}
        _act(
            "reseller.approve",
            reseller_id,
            lambda: console().client.approve(
                reseller_id, form.discount_bp.data, form.invoice_allowed.data, operator().email
            ),
            details,
            done="Reseller approved.",
        )
    return redirect(_return_to(url_for("admin.resellers")), code=303)


@blueprint.post("/resellers/<reseller_id>/reject")
def reject(reseller_id: str) -> Any:
    form = RejectForm(request.form)
    if not form.validate():
        flash("Give a reason for the rejection.", "error")
    else:
        _act(
            "reseller.reject",
            reseller_id,
            lambda: console().client.reject(reseller_id, form.reason.data, operator().email),
            {"reason": form.reason.data},
            done="Reseller rejected.",
        )
    return redirect(_return_to(url_for("admin.resellers")), code=303)


@blueprint.post("/resellers/<reseller_id>/suspend")
def suspend(reseller_id: str) -> Any:
    form = SuspendForm(request.form)
    if form.validate():
        _act(
            "reseller.suspend",
            reseller_id,
            lambda: console().client.suspend(reseller_id, form.reason.data or "", operator().email),
            {"reason": form.reason.data or ""},
            done="Reseller suspended; their sessions end.",
        )
    return _back("admin.reseller", reseller_id=reseller_id)


@blueprint.post("/resellers/<reseller_id>/billing")
def update_billing(reseller_id: str) -> Any:
    form = BillingForm(request.form)
    if form.validate():
        patch = form.patch()
        result = _act(
            "reseller.billing_edit",
            reseller_id,
            lambda: console().client.update_billing(reseller_id, patch, operator().email),
            {"billing": patch},
            done="Billing information saved.",
        )
        if result is not None:
            return _back("admin.reseller", reseller_id=reseller_id)
    account = console().client.reseller(reseller_id)
    return _reseller_page(account, form, 422)


def _return_to(default: str) -> str:
    path = _next_path(request.form.get("return_to"))
    return path if path != HOME else default


# --- change requests ----------------------------------------------------------------------------------------------


@blueprint.get("/change-requests")
def change_requests() -> Any:
    status = request.args.get("status", "open")
    if status not in ("open", "closed", "all"):
        status = "open"
    rows = console().client.change_requests(None if status == "all" else status)
    return render_template("admin/change_requests.html", requests=rows, status=status)


@blueprint.get("/change-requests/<request_id>")
def change_request(request_id: str) -> Any:
    client = console().client
    found = next((r for r in client.change_requests(None) if str(r.get("id")) == request_id), None)
    if found is None:
        return render_template("admin/error.html", title="Change request not found", detail=request_id), 404
    number = str(found.get("previous_order_number") or "")
    order, order_problem = None, None
    try:
        order = client.order(number)
    except DownstreamError as exc:
        order_problem = "No order with this number in order-service." if exc.status == 404 else _explain(exc)
    licenses = client.find_licenses(order_number=number) if number else []
    account = None
    if found.get("reseller_id"):
        try:
            account = client.reseller(str(found["reseller_id"]))
        except DownstreamError:
            account = None
    return render_template(
        "admin/change_request.html",
        cr=found,
        order=order,
        order_problem=order_problem,
        licenses=licenses,
        account=account,
    )


@blueprint.post("/change-requests/<request_id>/close")
def close_change_request(request_id: str) -> Any:
    _act(
        "change_request.close",
        request_id,
        lambda: console().client.close_change_request(request_id, operator().email),
        done="Change request closed.",
    )
    return _back("admin.change_request", request_id=request_id)


# --- licenses -------------------------------------------------------------------------------------------------------


@blueprint.get("/licenses")
def licenses() -> Any:
    query = {name: (request.args.get(name) or "").strip()[:200] for name in ("key", "licensee", "order_number")}
    found = console().client.find_licenses(**query) if any(query.values()) else None
    return render_template("admin/licenses.html", query=query, licenses=found)


@blueprint.get("/licenses/<license_id>")
def license_detail(license_id: str) -> Any:
    found = console().client.license(license_id)
    return render_template("admin/license.html", license=found, link=None)


@blueprint.post("/licenses/<license_id>/extension-link")
def resend_extension_link(license_id: str) -> Any:
    """The license's link for its current cycle (the same link the reminders carry), shown to the operator.

    The services have no "send this reminder again" endpoint: the operator copies the URL into a reply. The
    audit entry names the link id, never the URL (it carries the raw token).
    """
    link = _act(
        "license.extension_link",
        license_id,
        lambda: console().client.extension_link(license_id),
        summarize=lambda r: {"link_id": r.get("link_id")},
    )
    if link is None:
        return _back("admin.license_detail", license_id=license_id)
    found = console().client.license(license_id)
    return render_template("admin/license.html", license=found, link=link)


# --- price lists ----------------------------------------------------------------------------------------------------


@blueprint.route("/price-lists", methods=["GET", "POST"])
def price_lists() -> Any:
    products = console().client.catalogue()
    form = PriceListForm(request.form if request.method == "POST" else None)
    form.product_sku.choices = [(p["sku"], f"{p['sku']} — {p['name']} {p.get('edition') or ''}") for p in products]
    status = 200
    if request.method == "POST":
        if form.validate():
            body = {
                "product_sku": form.product_sku.data,
                "currency": form.currency.data,
                "price_per_seat_year": form.price_per_seat_year.data,
                "valid_from": form.valid_from.data.isoformat(),
            }
            if form.valid_to.data:
                body["valid_to"] = form.valid_to.data.isoformat()
            if (
                _act(
                    "price_list.add",
                    body["product_sku"],
                    lambda: console().client.add_price_list(body),
                    body,
                    done="Price list saved.",
                )
                is not None
            ):
                return _back("admin.price_lists")
        status = 422
    return render_template("admin/price_lists.html", products=products, form=form), status


# --- dead letters ---------------------------------------------------------------------------------------------------


@blueprint.get("/dead-letters")
def dead_letters() -> Any:
    wanted = request.args.get("service")
    services = [wanted] if wanted in DEAD_LETTER_SERVICES else list(DEAD_LETTER_SERVICES)
    sections = []
    for service in services:
        try:
            sections.append({"service": service, "rows": console().client.dead_letters(service), "problem": None})
        except (DownstreamError, ServiceDown) as exc:
            sections.append({"service": service, "rows": [], "problem": _explain(exc)})
    return render_template("admin/dead_letters.html", sections=sections, services=DEAD_LETTER_SERVICES)


def _dead_letter_service(service: str) -> str:
    if service not in DEAD_LETTER_SERVICES:
        from werkzeug.exceptions import NotFound

        raise NotFound()
    return service


@blueprint.post("/dead-letters/<service>/replay")
def replay_dead_letters(service: str) -> Any:
    service = _dead_letter_service(service)
    ids = [i for i in request.form.getlist("ids") if i][:500]
    replay_all = request.form.get("all") == "1"
    if not ids and not replay_all:
        flash("Choose the dead letters to replay.", "error")
        return redirect(url_for("admin.dead_letters", service=service), code=303)
    replayed = _act(
        "dead_letters.replay",
        service,
        lambda: console().client.replay_dead_letters(service, None if replay_all else ids),
        {"ids": ids, "all": replay_all},
        summarize=lambda rows: {"replayed": [r.get("id") for r in rows]},
    )
    if replayed is not None:
        flash(f"Replayed {len(replayed)} dead letter(s) of {service}.", "info")
    return redirect(url_for("admin.dead_letters", service=service), code=303)


@blueprint.post("/dead-letters/<service>/discard")
def discard_dead_letters(service: str) -> Any:
    service = _dead_letter_service(service)
    ids = [i for i in request.form.getlist("ids") if i][:500]
    if not ids:
        flash("Choose the dead letters to discard.", "error")
        return redirect(url_for("admin.dead_letters", service=service), code=303)
    discarded = _act(
        "dead_letters.discard",
        service,
        lambda: console().client.discard_dead_letters(service, ids),
        {"ids": ids},
        summarize=lambda rows: {"discarded": [r.get("id") for r in rows]},
    )
    if discarded is not None:
        flash(f"Discarded {len(discarded)} dead letter(s) of {service}.", "info")
    return redirect(url_for("admin.dead_letters", service=service), code=303)


# --- reminder scan --------------------------------------------------------------------------------------------------


@blueprint.route("/reminder-scans", methods=["GET", "POST"])
def reminder_scan() -> Any:
    form = ReminderScanForm(request.form if request.method == "POST" else None)
    result = None
    status = 200
    if request.method == "POST":
        if form.validate():
            as_of = form.as_of.data.isoformat() if form.as_of.data else None
            result = _act(
                "reminder_scan.run",
                as_of or "today",
                lambda: console().client.reminder_scan(as_of),
                {"as_of": as_of},
                summarize=lambda r: {"reminders_queued": r.get("reminders_queued"), "scanned_as_of": r.get("as_of")},
            )
        else:
            status = 422
    return render_template("admin/reminder_scan.html", form=form, result=result), status


# --- audit log ------------------------------------------------------------------------------------------------------


@blueprint.get("/audit")
def audit() -> Any:
    try:
        page = max(0, int(request.args.get("page", "0")))
    except ValueError:
        page = 0
    log_ = console().store.audit
    entries = log_.latest(page * AUDIT_PAGE, AUDIT_PAGE)
    total = log_.size()
    more = (page + 1) * AUDIT_PAGE < total
    return render_template(
        "admin/audit.html",
        entries=entries,
        page=page,
        total=total,
        older=f"?{urlencode({'page': page + 1})}" if more else None,
        newer=f"?{urlencode({'page': page - 1})}" if page else None,
    )
