"""Write deploy/compose.env for `make up` from deploy/compose.env.example, each `change-me` replaced by a fresh
random secret (hex: safe inside database and broker URLs). Never overwrites an existing file.

    python3 deploy/compose_env.py [TARGET]   (default deploy/compose.env)
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

PLACEHOLDER = "change-me"
EXAMPLE = Path(__file__).with_name("compose.env.example")


def render(example: str) -> str:
    lines = []
    for line in example.splitlines():
        name, sep, value = line.partition("=")
        if sep and not line.lstrip().startswith("#") and value.strip() == PLACEHOLDER:
            line = f"{name}={secrets.token_hex(32)}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    target = Path(argv[1]) if len(argv) > 1 else EXAMPLE.with_name("compose.env")
    if target.exists():
        print(f"{target} exists; keeping it")
        return 0
    tmp = target.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(render(EXAMPLE.read_text()))
    tmp.replace(target)
    print(f"wrote {target} with fresh secrets (OPS_TOKEN is in it)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
