"""Errors every layer may raise, and the exit status they end with (one home, no cycles).

`InputError` (a file's content: file, key path, what is allowed) lives in engine.schema, where
inputs are checked; `UsageError` is a bad command-line or API value.
"""
from salvosim.engine.schema import InputError

EXIT_USAGE = 2

__all__ = ["EXIT_USAGE", "InputError", "UsageError"]


class UsageError(Exception):
    """A bad command-line value (not a file's content)."""
