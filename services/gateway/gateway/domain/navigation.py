"""Where the gateway may send a browser back to after login: same-site relative paths only."""

from __future__ import annotations

from urllib.parse import urlsplit

DEFAULT_AFTER_LOGIN = "/reseller/account"


def safe_next(candidate: str | None, default: str = DEFAULT_AFTER_LOGIN) -> str:
    """Return `candidate` when it is a same-site relative path, else `default` (no open redirect).

    Refused: absolute URLs, scheme-relative `//host`, backslash tricks (`/\\host`), control characters,
    anything not starting with a single `/`.
    """
    if not candidate or len(candidate) > 2000:
        return default
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in candidate):
        return default
    if "\\" in candidate:
        return default
    if not candidate.startswith("/") or candidate.startswith("//"):
        return default
    parts = urlsplit(candidate)
    if parts.scheme or parts.netloc:
        return default
    return candidate
