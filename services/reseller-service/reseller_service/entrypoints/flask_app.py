"""HTTP edge of the reseller service (docs/internal-api.md): parse, call a handler, format. Nothing else."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, Response, jsonify, request
from renewals_shared.config import Settings
from renewals_shared.dead_letter_api import register_dead_letter_api
from renewals_shared.observability import metrics
from renewals_shared.web import (
    Problem,
    client_address,
    create_service_app,
    load_body,
    require_ops_token,
    require_service_token,
)
from sqlalchemy.exc import IntegrityError

from reseller_service.bootstrap import ResellerService, bootstrap
from reseller_service.domain import commands
from reseller_service.domain.model import AccountStatus, ChangeRequestStatus
from reseller_service.entrypoints import schemas
from reseller_service.service_layer import errors, views

INVALID_CREDENTIALS = "Invalid credentials"
LOGIN_FAILURE_REASONS = {
    errors.InvalidCredentials: "invalid_credentials",
    errors.AccountNotActive: "account_not_active",
    errors.TooManyAttempts: "rate_limited",
}


def _problem(exc: errors.ServiceError) -> Problem:
    """One place that turns a use-case outcome into problem JSON."""
    if isinstance(exc, errors.InvalidInput):
        return Problem(422, "Invalid request", "some fields are invalid", errors=exc.errors)
    if isinstance(exc, errors.InvalidCredentials):
        return Problem(401, INVALID_CREDENTIALS, "the email or the password is wrong")
    if isinstance(exc, errors.AccountNotActive):
        return Problem(
            403,
            "Account not active",
            f"this reseller account is {exc.status}",
            account_status=exc.status,
        )
    if isinstance(exc, errors.TooManyAttempts):
        return Problem(
            429,
            "Too many attempts",
            "too many failed sign-in attempts; try again later",
            retry_after=exc.retry_after,
        ).with_headers(Retry_After=str(exc.retry_after))
    if isinstance(exc, errors.EmailTaken):
        return Problem(409, "Email taken", "an account with this email already exists")
    if isinstance(exc, errors.InvalidResetToken):
        return Problem(
            400,
            "Invalid reset link",
            "this password reset link is invalid, expired or already used",
        )
    if isinstance(exc, errors.NotFound):
        return Problem(404, "Not found", str(exc))
    if isinstance(exc, errors.Gone):
        return Problem(410, "Gone", str(exc))
    if isinstance(exc, errors.Conflict):
        return Problem(409, "Conflict", str(exc))
    return Problem(400, "Bad request", str(exc))


def _optional_body(schema: type) -> dict[str, Any]:
    """Bodies whose every field is optional may be left out entirely."""
    if not request.get_data(cache=True):
        return dict(schema().load({}))
    return load_body(schema)


def _status_filter(enum: type, raw: str | None) -> Any:
    if raw is None or raw == "":
        return None
    try:
        return enum(raw)
    except ValueError:
        allowed = [m.value for m in enum]  # type: ignore[attr-defined]
        raise Problem(
            422,
            "Invalid request",
            "unknown status",
            errors={"status": [f"one of {allowed}"]},
        ) from None


def _actor() -> str:
    """Who changed something: the operator name the gateway forwards, else the credential kind."""
    actor = (request.headers.get("X-Actor") or "").strip()
    return actor[:200] if actor else "operations"


def create_app(settings: Settings | None = None, **overrides: Any) -> Flask:
    """`overrides` go to `bootstrap` (engine, clock, hasher, config, redis_client, limiter, uow_factory)."""
    settings = settings or Settings.from_env("reseller")
    service: ResellerService = bootstrap(settings, **overrides)
    app = create_service_app(
        settings,
        service.engine,
        name="reseller_service",
        max_content_length=service.config.max_content_length,
    )
    register_dead_letter_api(app, settings)  # GET/POST /admin/dead-letters[/replay|/discard]
    app.extensions["reseller_service"] = service
    bus = service.bus
    service_only = require_service_token(settings)
    ops_only = require_ops_token(settings)

    @app.errorhandler(errors.ServiceError)
    def on_service_error(exc: errors.ServiceError) -> Response:
        problem = _problem(exc)
        response = problem.to_response()
        if isinstance(exc, errors.AccountNotActive):
            # The contract's 403 body is `{status}` with the *account* status (the gateway reads it there);
            # `account_status` carries the same for clients that expect problem JSON's numeric `status`.
            body = response.get_json()
            body["status"] = exc.status
            response.set_data(app.json.dumps(body))
        return response

    def handle(command: commands.Command) -> Any:
        try:
            return bus.handle(command)
        except IntegrityError:
            # Only a concurrent duplicate registration gets here (the unique email index).
            raise errors.EmailTaken("email") from None

    # --- accounts ---------------------------------------------------------------------------------------------

    @app.post("/resellers")
    @service_only
    def register() -> tuple[Response, int]:
        body = load_body(schemas.RegisterSchema)
        reseller_id = handle(commands.RegisterReseller(**body))
        return jsonify(id=reseller_id, status=AccountStatus.PENDING.value), 201

    @app.get("/resellers/<reseller_id>")
    @service_only
    def get_reseller(reseller_id: str) -> Response:
        return jsonify(views.reseller(reseller_id, service.uow_factory()))

    @app.post("/authenticate")
    @service_only
    def authenticate() -> Response:
        body = load_body(schemas.AuthenticateSchema)
        try:
            account = handle(commands.Authenticate(body["email"], body["password"], client_address()))
        except errors.ServiceError as exc:
            metrics.login_failures.labels(LOGIN_FAILURE_REASONS.get(type(exc), "other")).inc()
            raise
        return jsonify(views.account_view(account))

    # --- password reset ---------------------------------------------------------------------------------------

    @app.post("/password-resets")
    @service_only
    def request_password_reset() -> tuple[Response, int]:
        body = load_body(schemas.PasswordResetRequestSchema)
        handle(commands.RequestPasswordReset(body["email"]))
        return jsonify(status="accepted"), 202

    @app.get("/password-resets/<reset_id>/url")
    @service_only
    def password_reset_url(reset_id: str) -> Response:
        token = views.password_reset_token(reset_id, service.uow_factory(), service.tokens, service.clock.now())
        response = jsonify(url=f"{settings.public_base_url}/reseller/password-reset/{token}")
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.post("/password-resets/complete")
    @service_only
    def complete_password_reset() -> tuple[str, int]:
        body = load_body(schemas.PasswordResetCompleteSchema)
        handle(commands.CompletePasswordReset(body["token"], body["new_password"]))
        return "", 204

    # --- change requests --------------------------------------------------------------------------------------

    @app.post("/change-requests")
    @service_only
    def submit_change_request() -> tuple[Response, int]:
        body = load_body(schemas.ChangeRequestSchema)
        return jsonify(id=handle(commands.SubmitChangeRequest(**body))), 202

    # --- operations -------------------------------------------------------------------------------------------

    @app.get("/admin/resellers")
    @ops_only
    def list_resellers() -> Response:
        status = _status_filter(AccountStatus, request.args.get("status"))
        return jsonify(resellers=views.resellers(status, service.uow_factory()))

    def _decision(make: Callable[[str, dict[str, Any]], commands.Command], schema: type) -> Callable[[str], Response]:
        def view(reseller_id: str) -> Response:
            body = _optional_body(schema)
            return jsonify(views.admin_account_view(handle(make(reseller_id, body))))

        return view

    app.add_url_rule(
        "/admin/resellers/<reseller_id>/approve",
        "approve_reseller",
        ops_only(_decision(lambda rid, b: commands.ApproveReseller(rid, **b), schemas.ApproveSchema)),
        methods=["POST"],
    )
    app.add_url_rule(
        "/admin/resellers/<reseller_id>/reject",
        "reject_reseller",
        ops_only(
            _decision(
                lambda rid, b: commands.RejectReseller(rid, b["reason"]),
                schemas.ReasonSchema,
            )
        ),
        methods=["POST"],
    )
    app.add_url_rule(
        "/admin/resellers/<reseller_id>/suspend",
        "suspend_reseller",
        ops_only(
            _decision(
                lambda rid, b: commands.SuspendReseller(rid, b["reason"]),
                schemas.OptionalReasonSchema,
            )
        ),
        methods=["POST"],
    )

    @app.patch("/admin/resellers/<reseller_id>/billing")
    @ops_only
    def update_billing(reseller_id: str) -> Response:
        body = load_body(schemas.BillingPatchSchema)
        account = handle(commands.UpdateBilling(reseller_id, body, _actor()))
        return jsonify(views.admin_account_view(account))

    @app.get("/admin/resellers/<reseller_id>/billing-edits")
    @ops_only
    def billing_edits(reseller_id: str) -> Response:
        return jsonify(billing_edits=views.billing_edits(reseller_id, service.uow_factory()))

    @app.get("/admin/change-requests")
    @ops_only
    def list_change_requests() -> Response:
        status = _status_filter(ChangeRequestStatus, request.args.get("status"))
        return jsonify(change_requests=views.change_requests(status, service.uow_factory()))

    @app.post("/admin/change-requests/<change_request_id>/close")
    @ops_only
    def close_change_request(change_request_id: str) -> Response:
        request_ = handle(commands.CloseChangeRequest(change_request_id, _actor()))
        return jsonify(views.change_request_view(request_))

    return app
