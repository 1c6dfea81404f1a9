"""The notifier's expiry scan over 1,000,000 licenses on PostgreSQL, beside the raw SQL query selecting the same rows.

The projection holds `--licenses` licenses (default 1,000,000) whose maintenance ends E are spread evenly from two
years before the scan date to one year after it (annual maintenance: the active licenses end within the next year,
the lapsed ones at any time in the past). The scan window (E from `as_of - MAX_LAPSE_DAYS` to `as_of + 60`) holds
about 39 % of them.

Scenario `daily` (the default, what the beat runs every morning): the notifier has run every day before, so every
license in the window already has its reminder rows (and email rows) for each stage whose date lies before today;
the due licenses are the ones reaching a stage today (E = as_of + 60, + 30, + 7, as_of, as_of - 14, as_of - 30),
about 0.55 % of the projection (about 5,500). The scan still has to look at the whole window, since a scan that
missed days, a license imported late or an end date that changed may make any license in it due.
Scenario `catch-up`: no reminder recorded yet (a first scan), so every license in the window is due (~390,000).

Measured, in alternating rounds on the same database (the scan's reminders and emails are deleted between rounds):
- the raw query: the reader's anti-join written as SQL (range on E, latest due stage, NOT EXISTS a reminder for
  that stage or a later one), run with psycopg and fetched in full, selecting the same rows the scan handles;
- the scan: `run_expiry_scan` with the real `SqlDueLicenseReader` (server-side cursor, batches of
  `--batch-size`), the real unit of work (reminder and email rows inserted, one transaction per batch), the
  token-service link call replaced by a counter, and the Celery enqueue (the SMTP send) replaced by a counter.
  It runs in a fresh subprocess that reports its wall time and its peak resident memory (ru_maxrss).
Targets: scan time <= 3x the raw query (reported as rows/s, >= 33 %); peak memory of the scanning process
<= 200 MB (reported as 200 MB / peak RSS, >= 100 %).

    python bench/scan.py [--licenses 1000000] [--scenario daily|catch-up] [--rounds 3] [--batch-size 1000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).parent))
from common import machine, report, scratch_database  # noqa: E402

STAGES = (-60, -30, -7, 0, 14, 30)
MAX_LAPSE_DAYS = 365
SPREAD_BEFORE, SPREAD_AFTER = 730, 365  # E from as_of - 730 days to as_of + 365 days
MEMORY_BUDGET_MB = 200.0
AS_OF = dt.date(2027, 3, 15)  # fixed: the fill and the scan agree on "today" whatever the wall clock says

# The reader's query (notifier.adapters.repository.SqlDueLicenseReader.query) by hand: latest due stage per row,
# range on the indexed end date, no reminder for that stage or a later one of the current cycle.
RAW_QUERY = """
SELECT lp.*, due.stage
FROM license_projection AS lp
CROSS JOIN LATERAL (
    SELECT CASE
        WHEN lp.maintenance_end <= %(as_of)s::date - 30 THEN 30
        WHEN lp.maintenance_end <= %(as_of)s::date - 14 THEN 14
        WHEN lp.maintenance_end <= %(as_of)s::date THEN 0
        WHEN lp.maintenance_end <= %(as_of)s::date + 7 THEN -7
        WHEN lp.maintenance_end <= %(as_of)s::date + 30 THEN -30
        WHEN lp.maintenance_end <= %(as_of)s::date + 60 THEN -60
    END AS stage
) AS due
WHERE lp.maintenance_end BETWEEN %(earliest)s AND %(latest)s
  AND lp.product_sku IS NOT NULL AND lp.currency IS NOT NULL AND lp.purchase_date IS NOT NULL
  AND NOT EXISTS (
      SELECT 1 FROM reminder AS r
      WHERE r.license_id = lp.license_id AND r.maintenance_end = lp.maintenance_end AND r.stage >= due.stage
  )
"""


def fill(url: str, licenses: int, scenario: str) -> dict[str, int]:
    """The projection with generate_series; in the daily scenario also the reminders and emails of past days."""
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(
            """
            INSERT INTO license_projection (license_id, product_sku, product_name, licensee_name, purchase_date,
                                            maintenance_end, contact_email, currency, end_customer_email)
            SELECT 'lic-' || lpad(g::text, 8, '0'),
                   'SKU-' || mod(g, 50),
                   'Product ' || mod(g, 50) || ' Professional',
                   'Licensee ' || g || ' GmbH',
                   (e - interval '2 years')::date,
                   e,
                   'admin' || g || '@example.com',
                   'EUR',
                   'buyer' || g || '@example.com'
            FROM generate_series(1, %(n)s) AS g,
                 LATERAL (SELECT %(as_of)s::date - %(before)s + mod(g, %(days)s)::int AS e) AS d
            """,
            {"n": licenses, "as_of": AS_OF, "before": SPREAD_BEFORE, "days": SPREAD_BEFORE + SPREAD_AFTER + 1},
        )
        if scenario == "daily":
            # every stage whose date (E + stage) lies before today was sent on its day: reminder + email rows
            connection.execute(
                """
                INSERT INTO reminder (license_id, maintenance_end, stage, as_of, link_id)
                SELECT lp.license_id, lp.maintenance_end, s.stage, lp.maintenance_end + s.stage,
                       'link-' || lp.license_id
                FROM license_projection AS lp CROSS JOIN unnest(%(stages)s::int[]) AS s(stage)
                WHERE lp.maintenance_end BETWEEN %(earliest)s AND %(latest)s
                  AND lp.maintenance_end + s.stage < %(as_of)s
                """,
                {"stages": list(STAGES), "as_of": AS_OF, **window()},
            )
            connection.execute(
                """
                INSERT INTO email (type, recipient, dedupe_key, context, status, attempts, sent_at)
                SELECT 'expiry_reminder', 'admin@example.com',
                       'reminder:' || license_id || ':' || maintenance_end || ':' || stage,
                       jsonb_build_object('license_id', license_id, 'stage', stage, 'as_of', as_of),
                       'sent', 1, as_of
                FROM reminder
                """
            )
        connection.execute("VACUUM ANALYZE license_projection")
        connection.execute("VACUUM ANALYZE reminder")
        connection.execute("VACUUM ANALYZE email")
        return {
            table: connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608 - fixed names
            for table in ("license_projection", "reminder", "email")
        }


def window() -> dict[str, dt.date]:
    return {"earliest": AS_OF - dt.timedelta(days=MAX_LAPSE_DAYS), "latest": AS_OF - dt.timedelta(days=min(STAGES))}


def raw_query(url: str) -> tuple[float, int]:
    """(seconds, rows): the raw query, every row fetched into Python."""
    with psycopg.connect(url) as connection:
        started = time.perf_counter()
        rows = connection.execute(RAW_QUERY, {"as_of": AS_OF, **window()}).fetchall()
        return time.perf_counter() - started, len(rows)


def scan_in_subprocess(url: str, batch_size: int) -> dict[str, float]:
    output = subprocess.run(
        [sys.executable, __file__, "--child", url, "--batch-size", str(batch_size)],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "LOG_LEVEL": "WARNING"},
    )
    return json.loads(output.stdout.strip().splitlines()[-1])


def reset(url: str, emails_before: int) -> None:
    """Forget what the last scan recorded, so the next round scans the same due set."""
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("DELETE FROM reminder WHERE as_of = %s", (AS_OF,))
        connection.execute("DELETE FROM email WHERE id > %s", (emails_before,))
        connection.execute("VACUUM ANALYZE reminder")
        connection.execute("VACUUM ANALYZE email")


def child(url: str, batch_size: int) -> None:
    """The scanning process: the notifier's own scan with counters for the link call and the enqueue."""
    import resource

    from notifier.adapters.repository import SqlDueLicenseReader
    from notifier.domain.model import LicenseProjection
    from notifier.service_layer.ports import IssuedLink
    from notifier.service_layer.scan import run_expiry_scan
    from notifier.service_layer.unit_of_work import SqlAlchemyUnitOfWork
    from renewals_shared.db import make_engine
    from renewals_shared.observability import configure_logging

    configure_logging("notifier", "WARNING")

    class CountingLinks:
        """token-service's POST /links replaced by a counter (the scan itself is measured, not the HTTP call)."""

        calls = 0

        def issue(self, license: LicenseProjection) -> IssuedLink:
            self.calls += 1
            return IssuedLink(
                link_id=f"link-{license.license_id}",
                url="http://127.0.0.1:8000/extend/counted",
                status="active",
                cycle_end=license.maintenance_end,
                customer_discount_bp=5000,
                expires_on=license.maintenance_end + dt.timedelta(days=MAX_LAPSE_DAYS),
            )

    enqueued = 0

    def count_enqueued(ids: list[int]) -> None:  # the Celery enqueue that leads to the SMTP send
        nonlocal enqueued
        enqueued += len(ids)

    engine = make_engine(url)
    links = CountingLinks()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    result = run_expiry_scan(
        AS_OF,
        reader=SqlDueLicenseReader(engine),
        uow_factory=lambda: SqlAlchemyUnitOfWork(engine),
        links=links,
        stages=STAGES,
        max_lapse_days=MAX_LAPSE_DAYS,
        batch_size=batch_size,
        on_committed=count_enqueued,
    )
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    engine.dispose()
    record = {
        "seconds": seconds,
        "reminders": result.reminders_queued,
        "links": links.calls,
        "enqueued": enqueued,
        "rss_before_mb": rss_before,
        "peak_rss_mb": peak,
    }
    print(json.dumps(record), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--licenses", type=int, default=1_000_000)
    parser.add_argument("--scenario", choices=("daily", "catch-up"), default="daily")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--child", metavar="DATABASE_URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.batch_size)
        return
    from renewals_shared.migrations import upgrade

    print(f"machine: {machine()}")
    with scratch_database("scan") as url:
        upgrade("notifier", url.replace("postgresql://", "postgresql+psycopg://"))
        started = time.perf_counter()
        counts = fill(url, args.licenses, args.scenario)
        print(
            f"(filled in {time.perf_counter() - started:.0f} s: {counts['license_projection']:,} licenses, "
            f"{counts['reminder']:,} reminders and {counts['email']:,} emails of earlier days; "
            f"scenario {args.scenario}, as_of {AS_OF})"
        )
        raw_query(url)  # warm-up: the same pages in PostgreSQL's cache for both
        raw_times: list[float] = []
        scans: list[dict[str, float]] = []
        due = 0
        for _ in range(args.rounds):
            seconds, due = raw_query(url)
            raw_times.append(seconds)
            scan = scan_in_subprocess(url, args.batch_size)
            assert scan["reminders"] == scan["links"] == scan["enqueued"] == due, (scan, due)
            scans.append(scan)
            reset(url, counts["email"])
    raw_seconds = statistics.median(raw_times)
    scan_seconds = statistics.median(s["seconds"] for s in scans)
    peak = max(s["peak_rss_mb"] for s in scans)
    print(f"due licenses (rows the raw query returns, reminders the scan recorded): {due:,}")
    print(f"{'raw SQL query, same rows (median)':<44} {raw_seconds * 1000:9.0f} ms   " + _each(raw_times))
    print(
        f"{'expiry scan, link + SMTP counted (median)':<44} {scan_seconds * 1000:9.0f} ms   "
        + _each([s["seconds"] for s in scans])
    )
    print(f"{'scan time / raw query time':<44} {scan_seconds / raw_seconds:9.2f} x    (target <= 3 x)")
    print(
        f"{'peak RSS of the scanning process':<44} {peak:9.1f} MB   (before the scan: "
        f"{max(s['rss_before_mb'] for s in scans):.1f} MB; target <= {MEMORY_BUDGET_MB:.0f} MB)"
    )
    report(
        f"expiry scan ({args.scenario}, {due:,} due)",
        due / scan_seconds,
        "rows/s",
        "raw SQL query",
        due / raw_seconds,
        1 / 3,
        "scan time <= 3x the raw query",
    )
    report(
        "scanner memory budget",
        MEMORY_BUDGET_MB,
        "MB",
        "peak RSS of the scanning process",
        peak,
        1.0,
        "peak RSS <= 200 MB",
    )


def _each(values: list[float]) -> str:
    return "(" + ", ".join(f"{v * 1000:.0f}" for v in values) + " ms)"


if __name__ == "__main__":
    main()
