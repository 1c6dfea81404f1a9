"""When a browser session ends (DESIGN.md section 7 / issue 7): idle 30 minutes, absolute 12 hours.

The idle clock (`last_seen`) is written back at most once per `refresh_seconds` while nothing else in the session
changed: a page view then costs one read of the store instead of a read and a write. The idle window still slides
with activity; it can only end up to `refresh_seconds` early, never late.
"""

from __future__ import annotations

from dataclasses import dataclass

IDLE_SECONDS = 30 * 60
ABSOLUTE_SECONDS = 12 * 60 * 60
REFRESH_SECONDS = 60


@dataclass(frozen=True)
class SessionPolicy:
    idle_seconds: int = IDLE_SECONDS
    absolute_seconds: int = ABSOLUTE_SECONDS
    refresh_seconds: int = REFRESH_SECONDS

    def is_expired(self, created_at: float, last_seen: float, now: float) -> bool:
        return now - last_seen > self.idle_seconds or now - created_at > self.absolute_seconds

    def needs_refresh(self, last_seen: float, now: float) -> bool:
        """Whether an unchanged session must still be written back to move its idle deadline."""
        return not 0 <= now - last_seen < self.refresh_seconds

    def remaining_seconds(self, created_at: float, now: float) -> int:
        """How long the store should keep the session from now: never past the absolute limit."""
        return max(1, int(min(self.idle_seconds, self.absolute_seconds - (now - created_at))))


def version_is_stale(stored_version: int | None, current_version: int | None) -> bool:
    """A password change bumps the account's session_version; older sessions end."""
    if current_version is None:
        return False
    return stored_version is None or int(stored_version) < int(current_version)
