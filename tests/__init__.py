"""salvosim tests, one folder per package (tests/threats, tests/defenses, tests/bases,
tests/engine, tests/engine/views); shared kits here."""
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
