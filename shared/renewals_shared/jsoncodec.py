"""JSON on the hot paths (HTTP bodies, JSON columns, calls between services) through orjson.

The standard library's encoder was 8-10 % of the order-service's CPU under load (py-spy): every response, every
stored party, idempotent answer and outbox event goes through it. orjson writes the same JSON values, with these
differences, all harmless to a JSON reader: no spaces, non-ASCII text as UTF-8 rather than `\\u` escapes, NaN and
infinities as null. Integers must fit in 64 bits, both ways (no amount, count or basis point comes near). It reads
strict JSON only (no NaN literals); anything else is a ValueError, as before.
"""

from __future__ import annotations

from typing import Any

import orjson
from flask.json.provider import DefaultJSONProvider
from flask.wrappers import Response

# Dates and times go to the caller's `default` (Flask writes them as HTTP dates); other keys than strings are
# written as the standard library writes them.
_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME


def dumps(value: Any) -> str:
    """For JSON columns: what `json.dumps` writes, read back the same."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


loads = orjson.loads


class FlaskJSONProvider(DefaultJSONProvider):
    """Flask's JSON provider with orjson underneath; Flask's own conversions (dates as HTTP dates, Decimal, ...)
    still apply to what orjson does not write natively."""

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        return self._encode(obj, indent=bool(kwargs.get("indent"))).decode()

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return orjson.loads(s)

    def response(self, *args: Any, **kwargs: Any) -> Response:
        obj = self._prepare_response_obj(args, kwargs)
        pretty = (self.compact is None and self._app.debug) or self.compact is False
        return self._app.response_class(self._encode(obj, indent=pretty) + b"\n", mimetype=self.mimetype)

    def _encode(self, obj: Any, *, indent: bool) -> bytes:
        option = _OPTIONS | (orjson.OPT_INDENT_2 if indent else 0) | (orjson.OPT_SORT_KEYS if self.sort_keys else 0)
        return orjson.dumps(obj, default=self.default, option=option)
