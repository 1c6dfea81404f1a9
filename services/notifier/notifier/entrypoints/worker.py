"""The notifier's event consumer: `python -m notifier.entrypoints.worker` (runs until SIGTERM/SIGINT)."""

from __future__ import annotations

from renewals_shared.worker import run_worker

from notifier.bootstrap import bootstrap


def main() -> None:
    notifier = bootstrap()
    run_worker(notifier.config.settings, notifier.engine, notifier.event_handlers())


if __name__ == "__main__":
    main()
