"""One place for every input check: typed, documented fields and clear error messages.

Catalog entries, layouts and scenario tables are plain TOML tables. Each kind of table is a
dataclass whose fields carry their unit, bounds and documentation in `metadata`; `build()` fills
defaults, rejects unknown keys (with a did-you-mean), checks types and bounds and raises one
InputError naming the file, the key path and what is allowed.
"""
from __future__ import annotations

import dataclasses
import difflib
import math
import tomllib
from pathlib import Path
from typing import Any


class InputError(Exception):
    """A user's mistake in an input file: file, key path and what is allowed."""

    def __init__(self, file: str | Path, key_path: str, message: str):
        self.file = str(file)
        self.key_path = key_path
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.file}: {self.key_path}" if self.key_path else self.file
        return f"{where}: {self.message}"


@dataclasses.dataclass(frozen=True)
class Where:
    """File and key path of the table being read, for error messages."""
    file: str
    path: str = ""

    def at(self, key: str | int) -> "Where":
        if isinstance(key, int):
            return Where(self.file, f"{self.path}[{key}]")
        return Where(self.file, f"{self.path}.{key}" if self.path else key)

    def error(self, message: str) -> InputError:
        return InputError(self.file, self.path, message)


def spec(doc: str, *, default: Any = dataclasses.MISSING, lo: float | None = None,
         hi: float | None = None, lo_open: bool = False, choices: tuple | None = None,
         kind: str | None = None):
    """A documented field. kind: float, int, bool, str, str_list, class_map, class_int_map."""
    meta = {"doc": doc, "lo": lo, "hi": hi, "lo_open": lo_open, "choices": choices, "kind": kind}
    if default is dataclasses.MISSING:
        return dataclasses.field(metadata=meta)
    if isinstance(default, (list, dict)):
        return dataclasses.field(default_factory=lambda d=default: type(d)(d), metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def field_docs(cls) -> list[tuple[str, str, str, str]]:
    """(key, kind, default, doc) rows for documentation and `salvosim catalog`."""
    rows = []
    for f in dataclasses.fields(cls):
        if f.name.startswith("_") or "doc" not in f.metadata:
            continue
        if f.default is not dataclasses.MISSING:
            default = repr(f.default)
        elif f.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
            default = repr(f.default_factory())  # type: ignore[misc]
        else:
            default = "required"
        rows.append((key_of(f), f.metadata["kind"], default, f.metadata["doc"]))
    return rows


def key_of(f: dataclasses.Field) -> str:
    return "class" if f.name == "threat_class" else f.name


def suggest(word: str, allowed) -> str:
    close = difflib.get_close_matches(str(word), [str(a) for a in allowed], n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def allowed_list(allowed) -> str:
    items = sorted(str(a) for a in allowed)
    if len(items) > 12:
        items = items[:12] + ["..."]
    return ", ".join(items)


def check_keys(table: dict, allowed, where: Where) -> None:
    for key in table:
        if key not in allowed:
            raise where.at(key).error(
                f"unknown key '{key}'{suggest(key, allowed)}; allowed: {allowed_list(allowed)}")


def _type_name(value: Any) -> str:
    return {bool: "boolean", int: "integer", float: "number", str: "string", list: "array",
            dict: "table"}.get(type(value), type(value).__name__)


def check_value(value: Any, meta: dict, where: Where) -> Any:
    kind = meta["kind"]
    if kind == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise where.error(f"expected a number, got {_type_name(value)} {value!r}")
        value = float(value)
        if not math.isfinite(value):
            raise where.error(f"expected a finite number, got {value!r}")
        _check_bounds(value, meta, where)
    elif kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise where.error(f"expected an integer, got {_type_name(value)} {value!r}")
        _check_bounds(value, meta, where)
    elif kind == "bool":
        if not isinstance(value, bool):
            raise where.error(f"expected true or false, got {_type_name(value)} {value!r}")
    elif kind == "str":
        if not isinstance(value, str):
            raise where.error(f"expected a string, got {_type_name(value)} {value!r}")
        if meta["choices"] and value not in meta["choices"]:
            raise where.error(f"'{value}' is not allowed{suggest(value, meta['choices'])}; "
                              f"allowed: {allowed_list(meta['choices'])}")
    elif kind == "str_list":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise where.error(f"expected an array of strings, got {value!r}")
        if meta["choices"]:
            for i, v in enumerate(value):
                if v not in meta["choices"]:
                    raise where.at(i).error(f"'{v}' is not allowed{suggest(v, meta['choices'])}; "
                                            f"allowed: {allowed_list(meta['choices'])}")
    elif kind in ("class_map", "class_int_map"):
        if not isinstance(value, dict):
            raise where.error(f"expected a table of threat class = value, got {value!r}")
        sub = dict(meta, kind="float" if kind == "class_map" else "int")
        out = {}
        for k, v in value.items():
            if k not in meta["choices"]:
                raise where.at(k).error(f"unknown threat class '{k}'{suggest(k, meta['choices'])}; "
                                        f"allowed: {allowed_list(meta['choices'])}")
            out[k] = check_value(v, sub, where.at(k))
        value = out
    return value


def _bound(x) -> str:
    """A bound as written by a user: integers in full (seeds), others short."""
    return str(x) if isinstance(x, int) else f"{x:g}"


def _check_bounds(value, meta, where: Where) -> None:
    lo, hi = meta["lo"], meta["hi"]
    parts = []
    if lo is not None:
        parts.append(f"{'>' if meta['lo_open'] else '>='} {_bound(lo)}")
    if hi is not None:
        parts.append(f"<= {_bound(hi)}")
    too_low = lo is not None and (value < lo or (meta["lo_open"] and value == lo))
    if too_low or (hi is not None and value > hi):
        raise where.error(f"{value!r} is out of range; allowed: {' and '.join(parts)}")


def build(cls, table: Any, where: Where, fixed: dict | None = None, base: Any = None):
    """Validate a TOML table into dataclass `cls`.

    `fixed` supplies fields that are not read from the table (e.g. the id). With `base` (an
    instance of cls), the table holds overrides: absent keys keep base's values."""
    if not isinstance(table, dict):
        raise where.error(f"expected a table, got {_type_name(table)} {table!r}")
    fixed = fixed or {}
    fields = {key_of(f): f for f in dataclasses.fields(cls) if "doc" in f.metadata}
    readable = {k: f for k, f in fields.items() if f.name not in fixed}
    check_keys(table, readable, where)
    values = dict(fixed)
    for key, f in readable.items():
        if key in table:
            values[f.name] = check_value(table[key], f.metadata, where.at(key))
        elif base is not None:
            values[f.name] = getattr(base, f.name)
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:  # type: ignore[misc]
            raise where.error(f"missing required key '{key}' ({f.metadata['doc']})")
    obj = cls(**values)
    check = getattr(obj, "validate", None)
    if check is not None:
        check(where)
    return obj


def read_toml(path: str | Path) -> dict:
    path = Path(path)
    if not path.exists():
        raise InputError(path, "", "file does not exist")
    if path.is_dir():
        raise InputError(path, "", "is a directory, expected a TOML file")
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(path, "", f"malformed TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(path, "", f"cannot read: {exc}") from None
