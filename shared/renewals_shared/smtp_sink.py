"""A local SMTP sink (aiosmtpd) that keeps every message it catches in a Maildir for the dev mailbox page."""

from __future__ import annotations

import argparse
import email
import email.policy
import mailbox
import os
import signal
import threading
import time
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller


class CatchingHandler:
    def __init__(self, maildir: Path | None = None) -> None:
        self.messages: list[EmailMessage] = []
        self.maildir = mailbox.Maildir(maildir, create=True) if maildir else None
        self.accept = True
        self._changed = threading.Condition()

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: ANN001 - aiosmtpd's hook signature
        if not self.accept:
            return "451 4.3.0 sink is refusing mail for now"
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        if self.maildir is not None:
            self.maildir.add(envelope.content)
        with self._changed:
            self.messages.append(message)  # type: ignore[arg-type]
            self._changed.notify_all()
        return "250 Message accepted for delivery"

    def wait_for(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.messages) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"expected {count} emails, got {len(self.messages)}")
                self._changed.wait(remaining)
            return list(self.messages)


class SmtpSink:
    def __init__(self, port: int = 0, maildir: Path | None = None) -> None:
        self.handler = CatchingHandler(maildir)
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=port or _free_port())

    @property
    def port(self) -> int:
        return self.controller.port

    @property
    def messages(self) -> list[EmailMessage]:
        return self.handler.messages

    def wait_for(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        return self.handler.wait_for(count, timeout)

    def start(self) -> SmtpSink:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("SMTP_SINK_PORT", "8025")))
    parser.add_argument("--maildir", default=os.environ.get("MAILBOX_DIR", "var/mailbox"))
    args = parser.parse_args()
    sink = SmtpSink(args.port, Path(args.maildir)).start()
    print(f"SMTP sink on 127.0.0.1:{sink.port}, mail kept in {args.maildir}", flush=True)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    stop.wait()
    sink.stop()


if __name__ == "__main__":
    main()
