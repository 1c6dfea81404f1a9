"""The OpenAPI 3 document of `/api/v1`, written by hand so it says exactly what the gateway promises."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from gateway.entrypoints.api_schemas import COUNTRY_CODES, PHONE

PROBLEM = {"$ref": "#/components/responses/Problem"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": schema}},
    }


def _body(schema: dict[str, Any], required: bool = True) -> dict[str, Any]:
    return {"required": required, "content": {"application/json": {"schema": schema}}}


def _problems(*codes: int) -> dict[str, Any]:
    return {str(code): PROBLEM for code in (*codes, 503)}


def _path_param(name: str, description: str = "") -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
        "description": description,
    }


IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "schema": {"type": "string", "minLength": 1, "maxLength": 200},
    "description": "Unique per intended operation; repeating it returns the first answer.",
}
CSRF_HEADER = {
    "name": "X-CSRF-Token",
    "in": "header",
    "required": False,
    "schema": {"type": "string"},
    "description": "Required for state-changing calls made with the session cookie (value from GET /session).",
}
EXTENSION_TOKEN = {
    "name": "X-Extension-Token",
    "in": "header",
    "required": False,
    "schema": {"type": "string"},
    "description": "The link token a direct customer bought with (proves the right to the order).",
}
OPS: list[dict[str, list[str]]] = [{"opsToken": []}]

MONEY = {
    "type": "object",
    "required": ["amount", "currency"],
    "properties": {
        "amount": {"type": "integer", "description": "minor units"},
        "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
    },
}
ADDRESS = {
    "type": "object",
    "required": ["line1", "postal_code", "city", "country"],
    "properties": {
        "line1": {"type": "string", "minLength": 1, "maxLength": 200},
        "line2": {"type": ["string", "null"], "maxLength": 200},
        "postal_code": {"type": "string", "minLength": 1, "maxLength": 20},
        "city": {"type": "string", "minLength": 1, "maxLength": 100},
        "region": {"type": ["string", "null"], "maxLength": 100},
        "country": {"type": "string", "enum": COUNTRY_CODES},
    },
    "additionalProperties": False,
}
ADDRESS_OUT = {**ADDRESS, "additionalProperties": True}
PARTY = {
    "type": "object",
    "properties": {
        "name": {"type": ["string", "null"]},
        "company": {"type": ["string", "null"]},
        "email": {"type": ["string", "null"]},
        "address": {"anyOf": [_ref("AddressOut"), {"type": "null"}]},
        "vat_id": {"type": ["string", "null"]},
    },
}
TERM = {
    "type": "object",
    "required": ["years", "years_charged", "new_maintenance_end", "total"],
    "properties": {
        "years": {"type": "integer"},
        "years_charged": {"type": "integer"},
        "back_years": {"type": "integer"},
        "new_maintenance_end": {"type": "string", "format": "date"},
        "total": _ref("Money"),
    },
}
EXTENSION = {
    "type": "object",
    "required": ["license", "offer"],
    "properties": {
        "license": {
            "type": "object",
            "required": [
                "id",
                "product",
                "licensee_name",
                "purchase_date",
                "maintenance_end",
            ],
            "properties": {
                "id": {"type": ["string", "integer"]},
                "license_key_masked": {"type": "string"},
                "product": {
                    "type": "object",
                    "properties": {
                        "sku": {"type": "string"},
                        "name": {"type": "string"},
                        "edition": {"type": ["string", "null"]},
                    },
                },
                "seats": {"type": "integer"},
                "licensee_name": {"type": "string"},
                "purchase_date": {"type": "string", "format": "date"},
                "maintenance_end": {"type": "string", "format": "date"},
            },
        },
        "offer": {
            "type": "object",
            "required": [
                "customer_discount_bp",
                "reseller_discount_bp",
                "effective_discount_bp",
                "list_price_per_year",
                "price_per_year",
                "terms",
                "can_extend",
            ],
            "properties": {
                "customer_discount_bp": {"type": "integer"},
                "reseller_discount_bp": {"type": "integer"},
                "effective_discount_bp": {"type": "integer"},
                "list_price_per_year": _ref("Money"),
                "price_per_year": _ref("Money"),
                "terms": {"type": "array", "items": _ref("Term")},
                "can_extend": {"type": "boolean"},
                "reason": {"type": ["string", "null"]},
            },
        },
        "link": {"type": ["object", "null"]},
    },
}
ORDER = {
    "type": "object",
    "required": [
        "order_number",
        "status",
        "licensee_name",
        "total",
        "new_maintenance_end",
    ],
    "properties": {
        "order_number": {"type": "string"},
        "status": {"type": "string", "enum": ["pending_payment", "paid"]},
        "licensee_name": {"type": "string"},
        "product_name": {"type": "string"},
        "billing": {"anyOf": [_ref("Party"), {"type": "null"}]},
        "billing_address": {"anyOf": [_ref("AddressOut"), {"type": "null"}]},
        "end_customer": {"anyOf": [_ref("Party"), {"type": "null"}]},
        "term_years": {"type": "integer"},
        "years_charged": {"type": "integer"},
        "price_per_year": _ref("Money"),
        "total": _ref("Money"),
        "effective_discount_bp": {"type": "integer"},
        "previous_maintenance_end": {"type": "string", "format": "date"},
        "new_maintenance_end": {"type": "string", "format": "date"},
        "maintenance_end": {"type": "string", "format": "date"},
        "payment_methods": {
            "type": "array",
            "items": {"type": "string", "enum": ["card", "invoice"]},
        },
    },
}
ACCOUNT = {
    "type": "object",
    "required": ["company", "email", "status", "discount_bp", "billing_address"],
    "properties": {
        "id": {"type": ["string", "integer"]},
        "company": {"type": "string"},
        "contact_name": {"type": ["string", "null"]},
        "email": {"type": "string"},
        "phone": {"type": ["string", "null"]},
        "status": {"type": "string"},
        "discount_bp": {"type": "integer"},
        "invoice_allowed": {"type": "boolean"},
        "billing_address": {"anyOf": [_ref("AddressOut"), {"type": "null"}]},
        "billing": {"anyOf": [_ref("Party"), {"type": "null"}]},
    },
}
SESSION_STATE = {
    "type": "object",
    "required": ["authenticated", "csrf_token"],
    "properties": {
        "authenticated": {"type": "boolean"},
        "reseller": {"anyOf": [_ref("Account"), {"type": "null"}]},
        "csrf_token": {"type": "string"},
    },
}
REGISTRATION = {
    "type": "object",
    "required": [
        "company",
        "contact_name",
        "email",
        "password",
        "phone",
        "billing_address",
    ],
    "additionalProperties": False,
    "properties": {
        "company": {"type": "string", "minLength": 1, "maxLength": 200},
        "contact_name": {"type": "string", "minLength": 1, "maxLength": 200},
        "email": {"type": "string", "format": "email", "maxLength": 254},
        "password": {"type": "string", "minLength": 1, "maxLength": 200},
        "phone": {"type": "string", "pattern": PHONE.replace("\\+", "[+]")},
        "vat_id": {"type": ["string", "null"], "maxLength": 20},
        "billing_address": _ref("Address"),
    },
}
CARD = {
    "type": "object",
    "required": ["number", "exp_month", "exp_year", "cvc", "holder"],
    "additionalProperties": False,
    "properties": {
        "number": {"type": "string", "pattern": "^[0-9 ]{12,23}$"},
        "exp_month": {"type": "integer", "minimum": 1, "maximum": 12},
        "exp_year": {"type": "integer", "minimum": 2000, "maximum": 2100},
        "cvc": {"type": "string", "pattern": "^[0-9]{3,4}$"},
        "holder": {"type": "string", "minLength": 1, "maxLength": 120},
    },
}
PAYMENT = {
    "oneOf": [
        {
            "type": "object",
            "required": ["method", "card"],
            "additionalProperties": False,
            "properties": {"method": {"const": "card"}, "card": _ref("Card")},
        },
        {
            "type": "object",
            "required": ["method"],
            "additionalProperties": False,
            "properties": {"method": {"const": "invoice"}},
        },
    ]
}
CHANGE_REQUEST = {
    "type": "object",
    "required": ["reseller_email", "previous_order_number", "topic", "message"],
    "additionalProperties": False,
    "properties": {
        "reseller_email": {"type": "string", "format": "email", "maxLength": 254},
        "previous_order_number": {"type": "string", "minLength": 1, "maxLength": 64},
        "topic": {"type": "string", "enum": ["billing", "end_customer", "other"]},
        "message": {"type": "string", "minLength": 1, "maxLength": 5000},
    },
}
ANY_OBJECT = {"type": "object", "additionalProperties": True}


def _admin(
    summary: str,
    method: str,
    params: list[dict[str, Any]] | None = None,
    body: bool = True,
) -> dict:
    operation: dict[str, Any] = {
        "summary": summary,
        "tags": ["operations"],
        "security": OPS,
        "parameters": params or [],
        "responses": {
            "200": _json(ANY_OBJECT),
            "201": _json(ANY_OBJECT, "Created"),
            **_problems(401, 404, 409, 422),
        },
    }
    if body and method != "get":
        operation["requestBody"] = _body({"oneOf": [ANY_OBJECT, {"type": "array", "items": ANY_OBJECT}]}, False)
    return {method: operation}


@lru_cache(maxsize=4)
def openapi_document(base_url: str) -> dict[str, Any]:
    token = _path_param("token", "the extension link's token")
    number = _path_param("order_number")
    paths: dict[str, Any] = {
        "/extensions/{token}": {
            "get": {
                "summary": "The offer behind a link (reseller discount when an approved reseller is logged in)",
                "tags": ["extensions"],
                "parameters": [token],
                "responses": {
                    "200": _json(_ref("Extension")),
                    **_problems(404, 410, 429),
                },
            }
        },
        "/extensions/{token}/orders": {
            "post": {
                "summary": "Order the extension",
                "tags": ["extensions"],
                "parameters": [
                    token,
                    {**IDEMPOTENCY_KEY, "required": True},
                    CSRF_HEADER,
                ],
                "requestBody": _body(
                    {
                        "type": "object",
                        "required": ["term_years"],
                        "additionalProperties": False,
                        "properties": {
                            "term_years": {
                                "type": "integer",
                                "minimum": 1,
                                "maximum": 3,
                            }
                        },
                    }
                ),
                "responses": {
                    "201": _json(_ref("Order"), "Created"),
                    **_problems(400, 403, 404, 409, 410, 415, 422),
                },
            }
        },
        "/orders/{order_number}": {
            "get": {
                "summary": "An order, for its buyer",
                "tags": ["orders"],
                "parameters": [number, EXTENSION_TOKEN],
                "responses": {"200": _json(_ref("Order")), **_problems(404)},
            }
        },
        "/orders/{order_number}/payments": {
            "post": {
                "summary": "Pay an order by card (sandbox) or invoice (accounts allowed to)",
                "tags": ["orders"],
                "parameters": [number, IDEMPOTENCY_KEY, EXTENSION_TOKEN, CSRF_HEADER],
                "requestBody": _body(_ref("Payment")),
                "responses": {
                    "200": _json(_ref("Order"), "Paid"),
                    **_problems(400, 402, 403, 404, 409, 415, 422),
                },
            }
        },
        "/resellers": {
            "post": {
                "summary": "Register a reseller account (pending until approved)",
                "tags": ["resellers"],
                "parameters": [CSRF_HEADER],
                "requestBody": _body(_ref("Registration")),
                "responses": {
                    "201": _json(
                        {
                            "type": "object",
                            "required": ["id", "status"],
                            "properties": {
                                "id": {"type": ["string", "integer"]},
                                "status": {"const": "pending"},
                            },
                        },
                        "Created",
                    ),
                    **_problems(400, 403, 409, 415, 422),
                },
            }
        },
        "/session": {
            "get": {
                "summary": "Who is logged in, and the CSRF token for this session",
                "tags": ["session"],
                "responses": {"200": _json(_ref("SessionState"))},
            },
            "post": {
                "summary": "Log in as a reseller (sets the session cookie)",
                "tags": ["session"],
                "parameters": [CSRF_HEADER],
                "requestBody": _body(
                    {
                        "type": "object",
                        "required": ["email", "password"],
                        "additionalProperties": False,
                        "properties": {
                            "email": {
                                "type": "string",
                                "minLength": 1,
                                "maxLength": 254,
                            },
                            "password": {
                                "type": "string",
                                "minLength": 1,
                                "maxLength": 200,
                            },
                        },
                    }
                ),
                "responses": {
                    "200": _json(_ref("SessionState")),
                    **_problems(400, 401, 403, 415, 422, 429),
                },
            },
            "delete": {
                "summary": "Log out",
                "tags": ["session"],
                "parameters": [CSRF_HEADER],
                "responses": {"204": {"description": "Logged out"}, **_problems(403)},
            },
        },
        "/reseller/account": {
            "get": {
                "summary": "The logged-in reseller's account and billing information",
                "tags": ["resellers"],
                "responses": {"200": _json(_ref("Account")), **_problems(401)},
            }
        },
        "/reseller/orders": {
            "get": {
                "summary": "The logged-in reseller's orders",
                "tags": ["resellers"],
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {"orders": {"type": "array", "items": _ref("Order")}},
                        }
                    ),
                    **_problems(401),
                },
            }
        },
        "/password-resets": {
            "post": {
                "summary": "Ask for a password reset email (always 202)",
                "tags": ["resellers"],
                "parameters": [CSRF_HEADER],
                "requestBody": _body(
                    {
                        "type": "object",
                        "required": ["email"],
                        "additionalProperties": False,
                        "properties": {
                            "email": {
                                "type": "string",
                                "minLength": 1,
                                "maxLength": 254,
                            }
                        },
                    }
                ),
                "responses": {
                    "202": {"description": "Accepted"},
                    **_problems(400, 403, 415, 422),
                },
            }
        },
        "/password-resets/complete": {
            "post": {
                "summary": "Set a new password with the token from the email",
                "tags": ["resellers"],
                "parameters": [CSRF_HEADER],
                "requestBody": _body(
                    {
                        "type": "object",
                        "required": ["token", "new_password"],
                        "additionalProperties": False,
                        "properties": {
                            "token": {
                                "type": "string",
                                "minLength": 1,
                                "maxLength": 500,
                            },
                            "new_password": {
                                "type": "string",
                                "minLength": 1,
                                "maxLength": 200,
                            },
                        },
                    }
                ),
                "responses": {
                    "204": {"description": "Changed"},
                    **_problems(400, 403, 415, 422),
                },
            }
        },
        "/change-requests": {
            "post": {
                "summary": "Ask the vendor to change billing or end-customer data",
                "tags": ["resellers"],
                "parameters": [CSRF_HEADER],
                "requestBody": _body(_ref("ChangeRequest")),
                "responses": {
                    "202": _json(
                        {
                            "type": "object",
                            "properties": {"id": {}, "status": {"type": "string"}},
                        },
                        "Accepted",
                    ),
                    **_problems(400, 403, 415, 422),
                },
            }
        },
        "/admin/products": _admin("Create a product", "post"),
        "/admin/products/{sku}": _admin("Update a product", "put", [_path_param("sku")]),
        "/admin/price-lists": _admin("Add a price list", "post"),
        "/admin/licenses": {
            **_admin("Import one license or a list", "post"),
            **_admin(
                "Find licenses",
                "get",
                [
                    {
                        "name": n,
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string"},
                    }
                    for n in ("key", "licensee", "order_number")
                ],
            ),
        },
        "/admin/licenses/import": _admin("Import licenses (JSON list)", "post"),
        "/admin/licenses/{license_id}": _admin("A license with its history", "get", [_path_param("license_id")]),
        "/admin/licenses/{license_id}/extension-link": {
            "post": {
                "summary": "Issue (or re-issue) the extension link of a license's current cycle",
                "tags": ["operations"],
                "security": OPS,
                "parameters": [_path_param("license_id")],
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "required": ["url"],
                            "properties": {"url": {"type": "string"}},
                        }
                    ),
                    "201": _json(
                        {
                            "type": "object",
                            "required": ["url"],
                            "properties": {"url": {"type": "string"}},
                        }
                    ),
                    **_problems(401, 404, 409),
                },
            }
        },
        "/admin/resellers": _admin(
            "List resellers",
            "get",
            [
                {
                    "name": "status",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string"},
                }
            ],
        ),
        "/admin/resellers/{reseller_id}/approve": _admin("Approve a reseller", "post", [_path_param("reseller_id")]),
        "/admin/resellers/{reseller_id}/reject": _admin("Reject a reseller", "post", [_path_param("reseller_id")]),
        "/admin/resellers/{reseller_id}/suspend": _admin("Suspend a reseller", "post", [_path_param("reseller_id")]),
        "/admin/resellers/{reseller_id}/billing": _admin(
            "Edit a reseller's billing information",
            "patch",
            [_path_param("reseller_id")],
        ),
        "/admin/change-requests": _admin(
            "List change requests",
            "get",
            [
                {
                    "name": "status",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string"},
                }
            ],
        ),
        "/admin/change-requests/{request_id}/close": _admin(
            "Close a change request", "post", [_path_param("request_id")]
        ),
        "/admin/links/{link_id}/revoke": _admin("Revoke an extension link", "post", [_path_param("link_id")]),
        "/admin/discount-policy/products/{sku}": _admin(
            "Customer discount for a product's new links", "put", [_path_param("sku")]
        ),
        "/admin/discount-policy/licenses/{license_id}": _admin(
            "Customer discount for a license's new links",
            "put",
            [_path_param("license_id")],
        ),
        "/admin/reminder-scans": _admin("Run the reminder scan now", "post"),
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Renewals public API",
            "version": "1.0.0",
            "description": (
                "Extend software maintenance through special links; reseller accounts; operations. "
                "Money is {amount (minor units), currency}; discounts are integer basis points; "
                "errors are RFC 9457 problem JSON. Browser sessions (cookie) must send X-CSRF-Token on "
                "state-changing calls; operations calls use Authorization: Bearer <OPS_TOKEN>."
            ),
        },
        "servers": [{"url": f"{base_url}/api/v1"}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "opsToken": {"type": "http", "scheme": "bearer"},
                "sessionCookie": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "renewals_session",
                },
            },
            "schemas": {
                "Money": MONEY,
                "Address": ADDRESS,
                "AddressOut": ADDRESS_OUT,
                "Party": PARTY,
                "Term": TERM,
                "Extension": EXTENSION,
                "Order": ORDER,
                "Account": ACCOUNT,
                "SessionState": SESSION_STATE,
                "Registration": REGISTRATION,
                "Card": CARD,
                "Payment": PAYMENT,
                "ChangeRequest": CHANGE_REQUEST,
                "Problem": {
                    "type": "object",
                    "required": ["title", "status"],
                    "properties": {
                        "type": {"type": "string"},
                        "title": {"type": "string"},
                        "status": {"type": "integer"},
                        "detail": {"type": "string"},
                        "errors": {"type": "object"},
                    },
                },
            },
            "responses": {
                "Problem": {
                    "description": "Problem (RFC 9457)",
                    "content": {"application/problem+json": {"schema": _ref("Problem")}},
                }
            },
        },
    }
