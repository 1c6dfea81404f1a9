"""Run every benchmark and write BENCHMARKS.md at the repository root (`make bench`).

Every bench/*.py with a `__main__` block is a benchmark (helpers such as common.py, stack.py and baseline_app.py
have none); they run one after another in subprocesses (the machine is shared: never two at once). Each measures
its own baseline in the same run and prints its figures, then one `BENCH-RESULT {json}` line per ratio
(common.report): figure, value, baseline, baseline value, ratio, target. Those lines make the summary table; the
rest of each benchmark's output is kept below it. No assertion on any figure: a figure below its target is
reported as such; only a benchmark that crashes makes this script exit non-zero.

    python bench/run_all.py [--only links orders ...] [--output BENCHMARKS.md]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from common import RESULT_PREFIX, ROOT, machine  # noqa: E402

BENCH = Path(__file__).resolve().parent
TIMEOUT = 900


def benchmarks() -> list[Path]:
    return sorted(
        path
        for path in BENCH.glob("*.py")
        if path.name != Path(__file__).name and 'if __name__ == "__main__":' in path.read_text()
    )


def run(path: Path) -> tuple[int, float, list[str], list[dict[str, Any]], str]:
    """(exit code, seconds, output lines, results, stderr tail); the output is echoed as it comes."""
    print(f"==> {path.relative_to(ROOT)}", flush=True)
    started = time.perf_counter()
    errors = tempfile.TemporaryFile(mode="w+")  # a file, not a pipe: a chatty stderr cannot block the child
    process = subprocess.Popen([sys.executable, str(path)], cwd=ROOT, stdout=subprocess.PIPE, stderr=errors, text=True)
    lines: list[str] = []
    results: list[dict[str, Any]] = []
    try:
        assert process.stdout is not None
        for raw in process.stdout:
            line = raw.rstrip("\n")
            print(f"    {line}", flush=True)
            if line.startswith(RESULT_PREFIX):
                results.append(json.loads(line.removeprefix(RESULT_PREFIX)))
            else:
                lines.append(line)
        code = process.wait(TIMEOUT)
    except BaseException:
        process.terminate()
        process.wait(30)
        raise
    finally:
        errors.seek(0)
        stderr = errors.read()
        errors.close()
    if code != 0:
        print(stderr[-3000:], file=sys.stderr)
    return code, time.perf_counter() - started, lines, results, stderr[-3000:]


def _number(value: float) -> str:
    return f"{value:,.1f}"


def write_report(output: Path, runs: list[tuple[Path, int, float, list[str], list[dict[str, Any]], str]]) -> None:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    out = [
        "# Benchmarks",
        "",
        f"- date: {now.isoformat()}",
        f"- machine: {machine()}",
        "- command: `make bench` (`.venv/bin/python bench/run_all.py`)",
        "",
        "Each figure is compared with a baseline measured in the same run of the same benchmark (the machine is",
        "shared, so absolute figures move from run to run; the ratios are what the targets are about).",
        "",
        "| benchmark | figure | value | baseline | baseline value | ratio | target | verdict |",
        "|---|---|---:|---|---:|---:|---:|---|",
    ]
    for path, code, _seconds, _lines, results, _stderr in runs:
        if code != 0:
            out.append(f"| {path.name} | (failed, exit {code}) | | | | | | FAILED |")
        for r in results:
            verdict = "OK" if r["ok"] else "below target"
            out.append(
                f"| {path.name} | {r['figure']} | {_number(r['value'])} {r['unit']} | {r['baseline']} | "
                f"{_number(r['baseline_value'])} | {r['ratio'] * 100:.1f} % | >= {r['target'] * 100:.0f} % "
                f"| {verdict} |"
            )
    out.append("")
    for path, code, seconds, lines, _results, stderr in runs:
        out += [f"## {path.name}", "", f"`python bench/{path.name}`: {seconds:.0f} s, exit {code}", "", "```"]
        out += [line for line in lines if line.strip()]
        if code != 0:
            out += ["--- stderr (tail) ---", *stderr.strip().splitlines()[-30:]]
        out += ["```", ""]
    output.write_text("\n".join(out))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", nargs="*", help="benchmark names without .py (default: all)")
    parser.add_argument("--output", type=Path, default=ROOT / "BENCHMARKS.md")
    args = parser.parse_args()
    selected = [p for p in benchmarks() if not args.only or p.stem in args.only]
    print(f"machine: {machine()}; benchmarks: {', '.join(p.stem for p in selected)}", flush=True)
    runs = []
    for path in selected:
        code, seconds, lines, results, stderr = run(path)
        runs.append((path, code, seconds, lines, results, stderr))
    write_report(args.output, runs)
    print(f"wrote {args.output}")
    failed = [path.name for path, code, *_ in runs if code != 0]
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
