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
import unicodedata
from pathlib import Path
from typing import Any


def one_line(text: str) -> str:
    """`text` on one printable line: control characters (newlines, escape sequences) in names
    taken from a file are shown escaped, as Python's repr shows them."""
    return "".join(c if c.isprintable() or c == " " else repr(c)[1:-1] for c in str(text))


class InputError(Exception):
    """A user's mistake in an input file: file, key path and what is allowed."""

    def __init__(self, file: str | Path, key_path: str, message: str):
        self.file = str(file)
        self.key_path = key_path
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.file}: {self.key_path}" if self.key_path else self.file
        return one_line(f"{where}: {self.message}")


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


# ----------------------------------------------------------------------------------------
# Physical bounds. Every number a file (or a variant, or --vary) can set has an upper and a
# lower bound, checked on loading with the field's own bounds: a time of 1e13 s, a speed of
# 1e-6 m/s or a count of 1e7 is a mistake, and the engines would hang or run out of memory on
# it. A key's bounds come from its name (KEY_LIMITS), else from its unit suffix
# (SUFFIX_LIMITS); a field's declared bounds can only make them narrower.
DAY_S = 86_400.0
MAX_TIME_S = 30 * DAY_S             # 2,592,000 s: a scenario lasts at most 30 days
MAX_DISTANCE_M = 5_000_000.0        # 5,000 km: ranges, positions, spreads
MAX_ALTITUDE_M = 100_000.0          # 100 km: flight altitudes, envelopes, sensor heights
MAX_APOGEE_M = 1_000_000.0          # 1,000 km: a ballistic apogee (a 2,000 km missile: ~500 km)
MAX_INT = 1_000_000                 # any whole number without a tighter bound

MAX_REPS = 10_000_000   # replications of a run: a scenario's `replications`, --reps, the API
MAX_SEED = 2 ** 63 - 1  # a seed: the scenario's `seed`, --seed, the API
KEY_LIMITS: dict[str, tuple[float | None, float | None, str]] = {
    # key: (lo, hi, note shown after the bounds)
    "east_m": (-MAX_DISTANCE_M, MAX_DISTANCE_M, "m, 5,000 km"),
    "north_m": (-MAX_DISTANCE_M, MAX_DISTANCE_M, "m, 5,000 km"),
    "lat_deg": (-90.0, 90.0, "degrees"),
    "lon_deg": (-180.0, 180.0, "degrees"),
    "altitude_m": (0.0, MAX_ALTITUDE_M, "m, 100 km"),
    "min_altitude_m": (0.0, MAX_ALTITUDE_M, "m, 100 km"),
    "max_altitude_m": (0.0, MAX_ALTITUDE_M, "m, 100 km"),
    "height_m": (0.0, MAX_ALTITUDE_M, "m, 100 km"),
    "elevation_m": (-1_000.0, 10_000.0, "m"),
    "apogee_m": (0.0, MAX_APOGEE_M, "m, 1,000 km"),
    "rate_per_min": (0.0, 10_000.0, "per minute"),
    "warhead_kg": (0.0, 100_000.0, "kg"),
    "value": (0.0, 1.0e9, ""),
    "channels": (1, 100, ""),
    "magazine": (0, MAX_INT, "rounds or interceptors"),
    "reserve": (0, MAX_INT, "rounds or interceptors"),
    "rounds_per_shot": (1, 10_000, ""),
    "shots_per_engagement": (1, 16, ""),
    "shots_per_engagement_by_class": (1, 16, ""),
    "max_engagements": (1, 100, ""),
    "replications": (1, MAX_REPS, ""),
    "count": (1, 10_000, ""),
}
SUFFIX_LIMITS: tuple[tuple[str, tuple[float | None, float | None, str]], ...] = (
    ("_mps", (1.0, 10_000.0, "m/s")),
    ("_s", (0.0, MAX_TIME_S, "s, 30 days")),
    ("_km", (0.0, MAX_DISTANCE_M / 1000.0, "km")),
    ("_m2", (0.0, 1.0e6, "m^2")),
    ("_m", (0.0, MAX_DISTANCE_M, "m, 5,000 km")),
    ("_deg", (-360.0, 360.0, "degrees")),
    ("_usd", (0.0, 1.0e12, "US dollars")),
)


def physical_limits(key: str, kind: str | None = None) -> tuple[float | None, float | None, str]:
    """(lo, hi, note) of a key by its name or unit suffix; numbers without one get
    0 .. MAX_INT (whole numbers) or no bound (fractions such as pk, which declare theirs)."""
    if key in KEY_LIMITS:
        return KEY_LIMITS[key]
    for suffix, limits in SUFFIX_LIMITS:
        if key.endswith(suffix):
            return limits
    if kind in ("int", "class_int_map"):
        return (None, MAX_INT, "default")
    return (None, None, "")


def bounded(meta: dict, key: str) -> dict:
    """A field's metadata with its declared bounds narrowed to the physical limits of `key`."""
    if meta.get("kind") not in ("float", "int", "class_map", "class_int_map"):
        return dict(meta)
    plo, phi, note = physical_limits(key, meta.get("kind"))
    out = dict(meta)
    lo, lo_open = meta.get("lo"), meta.get("lo_open", False)
    if plo is not None and (lo is None or plo > lo):
        # 0 stays allowed where the field declares it (e.g. a laser's speed_mps = 0: unused)
        out["zero_ok"] = lo == 0 and not lo_open and plo > 0
        out["lo"], out["lo_open"] = plo, False
    hi = meta.get("hi")
    if note == "default":       # a whole number without a physical limit of its own
        note = ""
        if hi is not None:      # keeps its declared bound (a seed: 2^63 - 1)
            return out
    if phi is not None and (hi is None or phi < hi):
        out["hi"] = phi
    elif note:
        note = note.split(",")[0]     # the unit only: the magnitude was of the physical bound
    if note and not out.get("note"):
        out["note"] = note
    return out


def field_meta(f: dataclasses.Field) -> dict:
    """The metadata of a documented field, with its physical bounds."""
    return bounded(dict(f.metadata), key_of(f))


def allowed_text(meta: dict) -> str:
    """What a field allows, as in the error messages (e.g. '>= 0 and <= 2,592,000 (s, 30 days)')."""
    kind = meta.get("kind")
    if kind == "bool":
        return "true / false"
    if kind in ("str", "str_list"):
        return " / ".join(meta["choices"]) if meta.get("choices") else ""
    parts = []
    if meta.get("lo") is not None:
        parts.append(f"{'>' if meta.get('lo_open') else '>='} {bound_of(meta['lo'])}")
    if meta.get("hi") is not None:
        parts.append(f"<= {bound_of(meta['hi'])}")
    text = " and ".join(parts)
    if meta.get("zero_ok"):
        text = f"0, or {text}"
    if meta.get("note") and text:
        text += f" ({meta['note']})"
    return text


def field_docs(cls) -> list[tuple[str, str, str, str, str]]:
    """(key, kind, default, allowed, doc) rows for documentation and `salvosim catalog`."""
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
        rows.append((key_of(f), f.metadata["kind"], default, allowed_text(field_meta(f)),
                     f.metadata["doc"]))
    return rows


def field_table(cls) -> str:
    """The README table of a kind of table: key, type, default, allowed values, meaning."""
    lines = ["| key | type | default | allowed | meaning |", "|---|---|---|---|---|"]
    for key, kind, default, allowed, doc in field_docs(cls):
        default = "required" if default == "required" else f"`{default}`"
        kind = {"base": "str or table"}.get(kind, kind)
        doc = doc.replace(" | ", " / ").replace("|", "/")
        lines.append(f"| `{key}` | {kind} | {default} | {allowed} | {doc} |")
    return "\n".join(lines)


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
            raise where.error(f"expected a number, got {_type_name(value)} {short_value(value)}")
        try:
            value = float(value)
        except OverflowError:       # an integer too large for a float
            raise where.error(f"{short_value(value)} is out of range; allowed: "
                              f"{allowed_text(meta) or 'a finite number'}") from None
        if not math.isfinite(value):
            raise where.error(f"expected a finite number, got {value!r}")
        _check_bounds(value, meta, where)
    elif kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise where.error(f"expected an integer, got {_type_name(value)} {short_value(value)}")
        _check_bounds(value, meta, where)
    elif kind == "bool":
        if not isinstance(value, bool):
            raise where.error(f"expected true or false, got {_type_name(value)} {short_value(value)}")
    elif kind == "str":
        if not isinstance(value, str):
            raise where.error(f"expected a string, got {_type_name(value)} {short_value(value)}")
        if meta["choices"] and value not in meta["choices"]:
            raise where.error(f"'{value}' is not allowed{suggest(value, meta['choices'])}; "
                              f"allowed: {allowed_list(meta['choices'])}")
    elif kind == "str_list":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise where.error(f"expected an array of strings, got {short_value(value)}")
        if meta["choices"]:
            for i, v in enumerate(value):
                if v not in meta["choices"]:
                    raise where.at(i).error(f"'{v}' is not allowed{suggest(v, meta['choices'])}; "
                                            f"allowed: {allowed_list(meta['choices'])}")
    elif kind in ("class_map", "class_int_map"):
        if not isinstance(value, dict):
            raise where.error(f"expected a table of threat class = value, got {short_value(value)}")
        sub = dict(meta, kind="float" if kind == "class_map" else "int")
        out = {}
        for k, v in value.items():
            if k not in meta["choices"]:
                raise where.at(k).error(f"unknown threat class '{k}'{suggest(k, meta['choices'])}; "
                                        f"allowed: {allowed_list(meta['choices'])}")
            out[k] = check_value(v, sub, where.at(k))
        value = out
    return value


def bound_of(x) -> str:
    """A bound as written by a user: integers in full (seeds), whole floats with thousands
    separators (2,592,000), others short."""
    if isinstance(x, int):
        return f"{x:,}" if abs(x) < 10 ** 15 else str(x)
    if float(x).is_integer() and abs(x) < 1e16:
        return f"{int(x):,}"
    return f"{x:g}"


def short_value(value, limit: int = 60) -> str:
    """repr of a value, cut short (a 3,000-digit integer is not an error message)."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _check_bounds(value, meta, where: Where) -> None:
    lo, hi = meta["lo"], meta["hi"]
    if meta.get("zero_ok") and value == 0:
        return
    too_low = lo is not None and (value < lo or (meta["lo_open"] and value == lo))
    if too_low or (hi is not None and value > hi):
        raise where.error(f"{short_value(value)} is out of range; allowed: {allowed_text(meta)}")


def build(cls, table: Any, where: Where, fixed: dict | None = None, base: Any = None):
    """Validate a TOML table into dataclass `cls`.

    `fixed` supplies fields that are not read from the table (e.g. the id). With `base` (an
    instance of cls), the table holds overrides: absent keys keep base's values."""
    if not isinstance(table, dict):
        raise where.error(f"expected a table, got {_type_name(table)} {short_value(table)}")
    fixed = fixed or {}
    fields = {key_of(f): f for f in dataclasses.fields(cls) if "doc" in f.metadata}
    readable = {k: f for k, f in fields.items() if f.name not in fixed}
    check_keys(table, readable, where)
    values = dict(fixed)
    for key, f in readable.items():
        if key in table:
            values[f.name] = check_value(table[key], field_meta(f), where.at(key))
        elif base is not None:
            values[f.name] = getattr(base, f.name)
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:  # type: ignore[misc]
            raise where.error(f"missing required key '{key}' ({f.metadata['doc']})")
    obj = cls(**values)
    check = getattr(obj, "validate", None)
    if check is not None:
        check(where)
    return obj


def check_printable_name(name: str, where: "Where") -> None:
    """A name appears in tables, CSV rows and terminal headers: no control characters (a
    carriage return split a sweep CSV row, a newline or NUL reached the terminal raw), no
    invisible format or separator characters (a right-to-left override reordered the table it
    was printed in, U+2028 broke its line), and no spaces at either end (two names differing
    only there printed alike)."""
    bad = next((ch for ch in name if ord(ch) < 32 or 127 <= ord(ch) < 160), None)
    if bad is not None:
        raise where.error(f"{short_value(name)} contains the control character "
                          f"U+{ord(bad):04X}; allowed: printable characters only in a name")
    bad = next((ch for ch in name if unicodedata.category(ch) in ("Cf", "Zl", "Zp", "Cs")),
               None)
    if bad is not None:
        raise where.error(f"{short_value(name)} contains the invisible character "
                          f"U+{ord(bad):04X} ({unicodedata.name(bad, 'unnamed')}); allowed: "
                          f"printable characters only in a name")
    if not name.strip():
        raise where.error(f"{short_value(name)} is blank; allowed: a name with a visible "
                          f"character")
    if name != name.strip():
        raise where.error(f"{short_value(name)} begins or ends with white space; allowed: a "
                          f"name without spaces at either end")


MAX_TOML_BYTES = 16 * 1024 * 1024    # the largest scenario, base or catalog file read


def read_toml(path: str | Path) -> dict:
    """A TOML file's tables. Only a regular file of at most MAX_TOML_BYTES is read (a device
    such as /dev/zero would be read without end, a named pipe with no writer blocks)."""
    path = Path(path)
    if not path.exists():
        raise InputError(path, "", "file does not exist")
    if path.is_dir():
        raise InputError(path, "", "is a directory, expected a TOML file")
    try:
        if not path.is_file():
            raise InputError(path, "", "is not a regular file (a device, pipe or socket); "
                                       "expected a TOML file")
        size = path.stat().st_size
        if size > MAX_TOML_BYTES:
            raise InputError(path, "", f"is {size:,} bytes; allowed: at most "
                                       f"{MAX_TOML_BYTES:,} bytes for a TOML file")
        with path.open("rb") as fh:
            # utf-8-sig: a byte-order mark (some Windows editors write one) is not TOML
            return tomllib.loads(fh.read(MAX_TOML_BYTES + 1).decode("utf-8-sig"))
    except tomllib.TOMLDecodeError as exc:
        raise InputError(path, "", f"malformed TOML: {exc}") from None
    except RecursionError:
        raise InputError(path, "", "malformed TOML: tables or arrays nested too deeply") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(path, "", f"cannot read: {exc}") from None
