"""Operations commands: `python -m notifier.entrypoints.cli scan [--as-of YYYY-MM-DD]`, `sweep`,
`emails --status uncertain`, `resend EMAIL_ID`, `seed-demo` (no demo data of its own: a no-op)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys

from notifier.bootstrap import bootstrap


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="notifier")
    commands = parser.add_subparsers(dest="command", required=True)
    scan = commands.add_parser("scan", help="run the expiry scan now")
    scan.add_argument("--as-of", type=dt.date.fromisoformat, default=None, help="scan date (default: today, UTC)")
    commands.add_parser("sweep", help="re-enqueue pending emails nobody is working on")
    listing = commands.add_parser("emails", help="list emails with a status (e.g. uncertain, failed)")
    listing.add_argument("--status", default="uncertain")
    resend = commands.add_parser("resend", help="send an uncertain/failed/cancelled email again (same Message-ID)")
    resend.add_argument("email_id", type=int)
    commands.add_parser("seed-demo", help="nothing to seed: the projection fills from license events")
    args = parser.parse_args(argv)

    if args.command == "seed-demo":
        return 0
    notifier = bootstrap()
    if args.command == "scan":
        result = notifier.scan(args.as_of)
        print(
            json.dumps(
                {
                    "as_of": result.as_of.isoformat(),
                    "reminders_queued": result.reminders_queued,
                    "skipped": result.skipped,
                }
            )
        )
    elif args.command == "sweep":
        print(json.dumps({"enqueued": len(notifier.sweep())}))
    elif args.command == "emails":
        with notifier.uow_factory() as uow:
            for email in uow.repo.emails_with_status(args.status):  # type: ignore[attr-defined]
                print(
                    json.dumps(
                        {
                            "id": email.id,
                            "type": str(email.type),
                            "recipient": email.recipient,
                            "dedupe_key": email.dedupe_key,
                            "attempts": email.attempts,
                        }
                    )
                )
    elif args.command == "resend":
        with notifier.uow_factory() as uow:
            changed = uow.repo.resend(args.email_id)  # type: ignore[attr-defined]
            uow.commit()
        if not changed:
            print(f"email {args.email_id} is not uncertain, failed or cancelled", file=sys.stderr)
            return 1
        notifier.enqueue([args.email_id])
    return 0


if __name__ == "__main__":
    sys.exit(main())
