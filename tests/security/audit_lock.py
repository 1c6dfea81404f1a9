"""Check requirements.lock against the public advisory database with pip-audit.

    .venv/bin/python tests/security/audit_lock.py [--service pypi|osv]

Exit codes: 0 no known vulnerability in any locked package; 1 vulnerable packages (listed); 3 the advisory
database could not be reached or packages could not be looked up (so nothing is proven either way).
pip-audit itself prints "No known vulnerabilities found" even when it skipped every package because the index
could not be queried; this wrapper treats skipped packages as "not audited", never as clean.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
UNREACHABLE = 3


def audit(service: str = "pypi", timeout: float = 300.0) -> tuple[int, str]:
    pip_audit = Path(sys.executable).with_name("pip-audit")
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "audit.json"
        command = [
            str(pip_audit), "-r", str(ROOT / "requirements.lock"), "--no-deps", "--disable-pip",
            "--vulnerability-service", service, "--progress-spinner", "off", "--format", "json",
            "--output", str(report), "--timeout", "30",
        ]  # fmt: skip
        try:
            run = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
        except subprocess.TimeoutExpired:
            return (
                UNREACHABLE,
                f"ADVISORY DATABASE UNREACHABLE: pip-audit ({service}) did not finish in {timeout:.0f} s",
            )
        if not report.exists():
            detail = (run.stderr or run.stdout).strip().splitlines()[-3:]
            return UNREACHABLE, f"ADVISORY DATABASE UNREACHABLE: pip-audit ({service}) failed: {' | '.join(detail)}"
        dependencies = json.loads(report.read_text())["dependencies"]
    vulnerable = [d for d in dependencies if d.get("vulns")]
    skipped = [d for d in dependencies if d.get("skip_reason")]
    if vulnerable:
        lines = [
            f"{d['name']} {d['version']}: "
            + ", ".join(f"{v['id']} (fixed in {', '.join(v.get('fix_versions') or ['-'])})" for v in d["vulns"])
            for d in vulnerable
        ]
        return 1, "VULNERABLE PACKAGES in requirements.lock:\n  " + "\n  ".join(lines)
    if skipped:
        return UNREACHABLE, (
            f"ADVISORY DATABASE UNREACHABLE: {len(skipped)} of {len(dependencies)} locked packages could not be "
            f"audited ({service}), e.g. {skipped[0]['skip_reason']}"
        )
    return 0, f"no known vulnerabilities in {len(dependencies)} locked packages ({service})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--service", choices=["pypi", "osv"], default="pypi")
    args = parser.parse_args()
    code, message = audit(args.service)
    print(message, file=sys.stderr if code else sys.stdout)
    return code


if __name__ == "__main__":
    sys.exit(main())
