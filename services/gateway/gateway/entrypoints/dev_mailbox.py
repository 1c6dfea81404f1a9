"""Embedded mode only: the emails the local SMTP sink caught, newest first, with clickable links."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, abort, g, render_template
from markupsafe import Markup, escape

from gateway.entrypoints.flask_app import MAILBOX_CSP, current_gateway

blueprint = Blueprint("dev_mailbox", __name__, url_prefix="/dev/mailbox")

_URL = re.compile(r"https?://[^\s<>\"']+")


def linkify(text: str) -> Markup:
    """Plain text with every http(s) URL turned into a link; everything else escaped."""
    parts: list[str] = []
    last = 0
    for match in _URL.finditer(text):
        parts.append(str(escape(text[last : match.start()])))
        url = match.group(0).rstrip(".,;:)")
        tail = match.group(0)[len(url) :]
        parts.append(f'<a href="{escape(url)}">{escape(url)}</a>{escape(tail)}')
        last = match.end()
    parts.append(str(escape(text[last:])))
    return Markup("".join(parts))


@blueprint.get("")
@blueprint.get("/")
def inbox() -> Any:
    messages = current_gateway().mailbox.list()
    return render_template("dev/mailbox.html", messages=messages)


@blueprint.get("/<key>")
def message(key: str) -> Any:
    view = current_gateway().mailbox.get(key)
    if view is None:
        abort(404)
    g.csp = MAILBOX_CSP
    return render_template("dev/message.html", view=view, text_html=linkify(view.text or ""))
