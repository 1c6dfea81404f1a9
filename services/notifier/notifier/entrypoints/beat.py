"""The one beat (celery-redbeat: a Redis lock; a second beat waits as standby and takes over within ~25 s).

`python -m notifier.entrypoints.beat` — run it under a supervisor: it exits when it loses the lock.
"""

from __future__ import annotations

from notifier.entrypoints.celery_app import get_app


def main() -> None:
    app = get_app()
    app.Beat(loglevel="INFO").run()


if __name__ == "__main__":
    main()
