"""Keep raw extension tokens and password-reset tokens out of log lines."""

from __future__ import annotations

import re

_SECRET_PATH = re.compile(r"^(/(?:extend|api/v1/extensions|reseller/password-reset)/)([^/?#]+)")


def mask_path(path: str) -> str:
    """`/extend/abcdef.../order` -> `/extend/abcd…/order`: keeps 4 characters so log lines stay correlatable."""

    def _mask(match: re.Match[str]) -> str:
        secret = match.group(2)
        return f"{match.group(1)}{secret[:4]}…" if len(secret) > 4 else f"{match.group(1)}…"

    return _SECRET_PATH.sub(_mask, path)
