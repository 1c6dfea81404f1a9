"""The gateway's app factory: pages, the public JSON API, sessions, security headers, friendly errors."""

from __future__ import annotations

import logging
import time
from typing import Any

from flask import (
    Flask,
    Response,
    g,
    has_request_context,
    render_template,
    request,
)
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from gateway.adapters.downstream import DownstreamError, ServiceDown
from gateway.bootstrap import Gateway, bootstrap
from gateway.domain import presentation
from gateway.domain.redaction import mask_path
from gateway.entrypoints.web_session import RedisSessionInterface
from renewals_shared.config import Settings
from renewals_shared.web import Problem, create_service_app, forwarded_client_address

log = logging.getLogger("gateway.access")

PAGE_CSP = (
    "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
# the dev mailbox renders caught emails (inline styles) in a sandboxed srcdoc iframe; still no scripts
MAILBOX_CSP = (
    "default-src 'self'; script-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
API_CSP = "default-src 'none'; frame-ancestors 'none'"


def _is_api() -> bool:
    return request.path.startswith("/api/")


def create_app(settings: Settings | None = None, **overrides: Any) -> Flask:
    settings = settings or Settings.from_env("gateway")
    overrides.setdefault("context_headers", forwarded_client_address)
    gateway = bootstrap(settings, **overrides)

    app = create_service_app(
        settings,
        name="gateway",
        max_content_length=256_000,
        check_broker=False,  # the gateway publishes nothing; its own dependency is the session store
        readiness_checks={"sessions": gateway.redis.ping},
    )
    app.config.update(
        SECRET_KEY=settings.session_secret,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session (idle 30 min, absolute 12 h)
        WTF_CSRF_SSL_STRICT=True,
        SESSION_COOKIE_NAME=gateway.config.cookie_name,
    )
    app.extensions["gateway"] = gateway
    app.session_interface = RedisSessionInterface(
        gateway.session_store,
        settings.session_secret,
        gateway.session_policy,
        gateway.session_clock,
        gateway.config.cookie_name,
        gateway.config.cookie_secure,
    )
    if gateway.config.trusted_proxies:
        # behind N reverse proxies: the client address and scheme come from their X-Forwarded-* headers
        n = gateway.config.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]
    csrf = CSRFProtect(app)

    _register_template_helpers(app)
    _register_security_headers(app, gateway)
    _register_access_log(app)

    from gateway.entrypoints import admin_pages, api, pages, reseller_pages

    app.register_blueprint(pages.blueprint)
    app.register_blueprint(reseller_pages.blueprint)
    csrf.exempt(api.blueprint)  # the API checks the CSRF header itself (cookie sessions only)
    app.register_blueprint(api.blueprint)
    csrf.exempt(admin_pages.blueprint)  # the console checks its own operator-session CSRF token on every POST
    app.register_blueprint(admin_pages.blueprint)
    if settings.embedded:
        from gateway.entrypoints import dev_mailbox

        app.register_blueprint(dev_mailbox.blueprint)

    _register_error_handlers(app)
    return app


def current_gateway() -> Gateway:
    from flask import current_app

    return current_app.extensions["gateway"]  # type: ignore[no-any-return]


def _register_template_helpers(app: Flask) -> None:
    app.jinja_env.filters["money"] = presentation.format_money
    app.jinja_env.filters["percent"] = presentation.format_percent
    app.jinja_env.filters["long_date"] = presentation.format_date
    app.jinja_env.filters["years"] = presentation.years_label

    @app.context_processor
    def layout_context() -> dict[str, Any]:
        from flask import session

        # the header's logout form (LogoutForm on POST) writes its CSRF field itself: `csrf_token()` in base.html
        reseller = session.get("reseller") if has_request_context() else None
        return {
            "signed_in_reseller": reseller,
            "embedded": app.extensions["gateway"].settings.embedded,
        }


def _register_security_headers(app: Flask, gateway: Gateway) -> None:
    @app.after_request
    def security_headers(response: Response) -> Response:
        headers = response.headers
        if _is_api() and request.path != "/api/v1/docs":
            csp = API_CSP
        else:
            csp = g.get("csp", PAGE_CSP)
        headers.setdefault("Content-Security-Policy", csp)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
        if gateway.config.cookie_secure:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if not request.path.startswith("/static/"):
            headers.setdefault("Cache-Control", "no-store")
        return response


def _register_access_log(app: Flask) -> None:
    @app.before_request
    def start_clock() -> None:
        g.access_started = time.perf_counter()

    @app.after_request
    def access_log(response: Response) -> Response:
        if request.path in (
            "/healthz",
            "/readyz",
            "/metrics",
        ) or request.path.startswith("/static/"):
            return response
        elapsed_ms = (time.perf_counter() - g.get("access_started", time.perf_counter())) * 1000
        log.info(
            "request %s %s %s %.1fms",
            request.method,
            mask_path(request.path),  # never the raw extension or reset token
            response.status_code,
            elapsed_ms,
        )
        return response


def _problem(status: int, title: str, detail: str | None = None, **extensions: Any) -> Response:
    return Problem(status, title, detail, **extensions).to_response()


def _page(template: str, status: int, **context: Any) -> tuple[str, int]:
    return render_template(template, **context), status


def _register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ServiceDown)
    def on_service_down(exc: ServiceDown) -> Any:
        log.warning("downstream unavailable: %s", exc.service)
        if _is_api():
            response = _problem(
                503,
                "Service unavailable",
                f"{exc.service} is not answering; try again shortly",
            )
            response.headers["Retry-After"] = "5"
            return response
        body, status = _page("errors/service_down.html", 503, service=exc.service)
        return Response(body, status, headers={"Retry-After": "5"}, mimetype="text/html")

    @app.errorhandler(DownstreamError)
    def on_downstream(exc: DownstreamError) -> Any:
        if _is_api():
            body = {
                "type": "about:blank",
                "title": "Error",
                "status": exc.status,
                **exc.problem,
            }
            body["status"] = exc.status
            response = app.json.response(body)
            response.status_code = exc.status
            response.content_type = "application/problem+json"
            if exc.retry_after:
                response.headers["Retry-After"] = exc.retry_after
            return response
        return _page(
            "errors/generic.html",
            exc.status,
            title=exc.problem.get("title", "Error"),
            detail=exc.detail,
        )

    @app.errorhandler(CSRFError)
    def on_csrf(exc: CSRFError) -> Any:
        if _is_api():
            return _problem(403, "CSRF token missing or invalid", exc.description)
        return _page(
            "errors/generic.html",
            400,
            title="This form has expired",
            detail="For your security the form timed out. Go back, reload the page and submit it again.",
        )

    @app.errorhandler(HTTPException)
    def on_http_error(exc: HTTPException) -> Any:
        if _is_api():
            response = _problem(exc.code or 500, exc.name, exc.description)
            if exc.code == 405 and getattr(exc, "valid_methods", None):
                response.headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
            return response
        if exc.code == 404:
            return _page(
                "errors/generic.html",
                404,
                title="Page not found",
                detail="There is nothing at this address.",
            )
        return _page(
            "errors/generic.html",
            exc.code or 500,
            title=exc.name,
            detail=exc.description,
        )

    @app.errorhandler(Exception)
    def on_unexpected(exc: Exception) -> Any:
        log.exception("unhandled error on %s", mask_path(request.path))
        if _is_api():
            return _problem(
                500,
                "Internal error",
                "the error was logged",
                correlation_id=g.get("correlation_id"),
            )
        return _page(
            "errors/generic.html",
            500,
            title="Something went wrong",
            detail="We logged the problem. Please try again in a moment.",
            correlation_id=g.get("correlation_id"),
        )
