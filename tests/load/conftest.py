import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent
for folder in ("e2e", "load"):
    if str(TESTS / folder) not in sys.path:
        sys.path.insert(0, str(TESTS / folder))
