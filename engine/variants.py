"""Defense mixes (variants) and key paths: editing a scenario's data before it is built.

- **Variants.** A scenario's `[[variants]]` tables are named defense mixes. Each is applied to
  a copy of the scenario's TOML data with the scenario's own merge rules (units and sensors
  merged by name, `remove = true` drops one, `layout` switches the layout, `c2` overrides keys)
  and validated by engine.scenario, so a mistake names the file and the key path
  (`variants[1].units[0].type`). Without `[[variants]]` the scenario is the one variant
  "baseline".
- **Key paths** (`raids.0.count`, `units.cram_north.magazine`, `units.cram.count`,
  `c2.latency_s`, `scenario.seed`) address one value of a scenario; `--vary` sweeps them.
- `load_scenario(path)` reads a scenario file and builds every defense mix once, so that a
  mistake in `[[variants]]` is found on loading.
"""
from __future__ import annotations

import copy
import dataclasses
import math
import re
from typing import Any, Callable

from salvosim import defenses, threats
from salvosim.defenses import FireUnitType, SensorType
from salvosim.engine.errors import UsageError
from salvosim.engine.scenario import (
    C2,
    PLACEMENT_KEYS,
    POSITION_FORMS,
    POSITION_KEYS,
    UNIT_ONLY_KEYS,
    RaidTiming,
    Scenario,
    ScenarioHeader,
    check_remove_alone,
    check_unit_count,
    read_scenario,
    resolve_base,
    scenario_from_dict,
    unique_notes,
)
from salvosim.engine.schema import InputError, Where, allowed_list, check_printable_name, key_of, suggest
from salvosim.threats import ThreatType

BASELINE = "baseline"
MAX_GRID_POINTS = 500

VARIANT_KEYS = {
    "name": "variant (defense mix) name, unique in the file",
    "description": "free text",
    "layout": "switch to this layout of the base",
    "c2": "table of [c2] keys to override",
    "sensors": "array of sensor tables merged by name with the scenario's (as [[sensors]])",
    "units": "array of fire-unit tables merged by name with the scenario's (as [[units]]); "
             "`count = N` places N identical units there (0 removes it)",
}


# ----------------------------------------------------------------------------------------
# Variants
@dataclasses.dataclass(frozen=True)
class Variant:
    """One defense mix: its name and the validated scenario it makes."""
    name: str
    description: str
    scenario: Scenario
    data: dict               # the scenario data of this mix (no [[variants]], counts applied)


def base_data(scn: Scenario) -> dict:
    """A copy of the scenario's TOML data without its [[variants]]."""
    data = copy.deepcopy(scn.raw)
    data.pop("variants", None)
    return data


def variants_of(scn: Scenario, seed: int | None = None) -> list[Variant]:
    """The scenario's defense mixes (or the scenario itself as 'baseline').

    seed: if given, replaces the [scenario] seed of every mix."""
    data = base_data(scn)
    if seed is not None:
        data.setdefault("scenario", {})["seed"] = seed
    tables = scn.raw.get("variants", [])
    if not tables:
        s = scn if seed is None else scenario_from_dict(data, scn.file)
        return [Variant(BASELINE, "the scenario as it is", s, data)]
    check_variant_tables(tables, Where(scn.file).at("variants"))
    out = []
    for i, table in enumerate(tables):
        vdata, counts = apply_variant(data, table, i)
        scenario, vdata = build_scenario(vdata, counts, scn.file, variant=(i, table, data))
        out.append(Variant(table["name"], table.get("description", ""), scenario, vdata))
    return out


def check_variant_tables(tables, where: Where) -> None:
    """The shape of [[variants]]: keys, names, types (their content is checked when built)."""
    if not isinstance(tables, list):
        raise where.error("expected an array of [[variants]] tables")
    names: list[str] = []
    for i, table in enumerate(tables):
        w = where.at(i)
        if not isinstance(table, dict):
            raise w.error(f"expected a table, got {table!r}")
        for key in table:
            if key not in VARIANT_KEYS:
                raise w.at(key).error(f"unknown key '{key}'{suggest(key, VARIANT_KEYS)}; "
                                      f"allowed: {allowed_list(VARIANT_KEYS)}")
        name = table.get("name")
        if not isinstance(name, str) or not name.strip():
            raise (w.at("name") if "name" in table else w).error(
                "every variant needs a non-empty string 'name'")
        check_printable_name(name, w.at("name"))
        if name in names:
            raise w.at("name").error(f"duplicate variant name '{name}'")
        names.append(name)
        for key in ("description", "layout"):
            if key in table and not isinstance(table[key], str):
                raise w.at(key).error(f"expected a string, got {table[key]!r}")
        if "c2" in table and not isinstance(table["c2"], dict):
            raise w.at("c2").error(f"expected a table of [c2] keys, got {table['c2']!r}")
        for section in ("sensors", "units"):
            entries = table.get(section, [])
            if not isinstance(entries, list):
                raise w.at(section).error("expected an array of tables")
            seen: list[str] = []
            for k, entry in enumerate(entries):
                we = w.at(section).at(k)
                if not isinstance(entry, dict):
                    raise we.error(f"expected a table, got {entry!r}")
                if not isinstance(entry.get("name"), str) or not entry.get("name"):
                    raise we.error("missing required key 'name'")
                if entry["name"] in seen:
                    raise we.at("name").error(f"duplicate name {entry['name']!r} in this variant")
                seen.append(entry["name"])
                if entry.get("remove") is True:
                    check_remove_alone(entry, we)
                if "count" in entry:
                    if section != "units":
                        raise we.at("count").error("'count' applies to fire units only")
                    check_unit_count(entry["count"], we.at("count"))


def _layout_names(data: dict, section: str) -> set:
    """Names of the sensors or units of the layout `data` selects (empty if it is unknown)."""
    head = data.get("scenario", {})
    try:
        _base, layout = resolve_base(head.get("base"), head.get("layout", ""), Where(""), "")
        return {t.get("name") for t in getattr(layout, section) if isinstance(t, dict)}
    except Exception:   # an unknown base or layout is reported by scenario_from_dict
        return set()


def _combine(entry: dict, change: dict) -> dict:
    """A scenario table `entry` changed by `change` with the layout merge rules: only the keys
    given change, a new `type` starts again from the catalog, a position replaces a position."""
    own = set(PLACEMENT_KEYS) | set(UNIT_ONLY_KEYS)
    merged = dict(entry)
    merged.pop("remove", None)
    if "type" in change:
        merged = {k: v for k, v in merged.items() if k in own}
    if any(k in change for k in POSITION_KEYS):
        merged = {k: v for k, v in merged.items() if k not in POSITION_KEYS}
    merged.update(change)
    return merged


def merge_placements(data: dict, section: str, changes: list[dict],
                     origin: str | None = None) -> dict[int, str]:
    """Merge placement tables into data[section] by name; returns {merged index: origin path}
    for the entries that came from `changes` (origin like 'variants[1].units')."""
    entries = list(data.get(section, []))
    from_change: dict[str, str] = {}
    layout = _layout_names(data, section)
    for k, change in enumerate(changes):
        name = change["name"]
        at = next((i for i, e in enumerate(entries) if isinstance(e, dict) and e.get("name") == name),
                  None)
        if origin is not None:
            from_change[name] = f"{origin}[{k}]"
        if at is None:
            entries.append(dict(change))
        elif change.get("remove") is True:
            if name in layout:
                entries[at] = {"name": name, "remove": True}
            else:
                entries.pop(at)
        elif entries[at].get("remove") is True:
            entries[at] = dict(change)           # the mix puts back what the scenario removed
        else:
            entries[at] = _combine(entries[at], change)
    data[section] = entries
    return {i: from_change[e["name"]] for i, e in enumerate(entries)
            if isinstance(e, dict) and e.get("name") in from_change}


def apply_variant(data: dict, table: dict, index: int) -> tuple[dict, dict]:
    """(scenario data of the mix, unit counts {name: (count, key path)})."""
    data = copy.deepcopy(data)
    origin = f"variants[{index}]"
    if "layout" in table:
        data.setdefault("scenario", {})["layout"] = table["layout"]
    if "c2" in table:
        data["c2"] = {**data.get("c2", {}), **table["c2"]}
    counts = {}
    for section in ("sensors", "units"):
        changes = []
        known = _layout_names(data, section) | {e.get("name") for e in data.get(section, [])
                                                if isinstance(e, dict)}
        for k, entry in enumerate(table.get(section, [])):
            entry = dict(entry)
            if "count" in entry:
                counts[entry["name"]] = (entry.pop("count"), f"{origin}.{section}[{k}].count")
                if set(entry) == {"name"} and entry["name"] not in known:
                    continue    # { name = <a catalog type>, count = N }: N units of that type
            changes.append(entry)
        merge_placements(data, section, changes, f"{origin}.{section}")
    return data, counts


def _variant_path(key_path: str, data: dict, table: dict, index: int, base: dict) -> str:
    """Map a key path of the merged data back to the table that caused it: the variant's own
    entry, or the scenario's entry of that name (its index in the file)."""
    origin = f"variants[{index}]"
    m = re.match(r"^(units|sensors)\[(\d+)\](.*)$", key_path)
    if m:
        section, i, rest = m.group(1), int(m.group(2)), m.group(3)
        entries = data.get(section, [])
        name = entries[i].get("name") if i < len(entries) and isinstance(entries[i], dict) else None
        key = re.match(r"^\.([^.\[]+)", rest)
        for k, entry in enumerate(table.get(section, [])):
            if entry.get("name") == name and (key is None or key.group(1) in entry
                                              or "type" in entry):
                return f"{origin}.{section}[{k}]{rest}"
        for k, entry in enumerate(base.get(section, [])):
            if isinstance(entry, dict) and entry.get("name") == name:
                return f"{section}[{k}]{rest}"
        return key_path
    m = re.match(r"^c2\.([^.\[]+)(.*)$", key_path)
    if m and m.group(1) in table.get("c2", {}):
        return f"{origin}.c2.{m.group(1)}{m.group(2)}"
    if key_path == "scenario.layout" and "layout" in table:
        return f"{origin}.layout"
    return key_path


def build_scenario(data: dict, counts: dict, file: str,
                   variant: tuple[int, dict, dict] | None = None) -> tuple[Scenario, dict]:
    """Validate scenario data, then place the unit counts. Errors in a mix name the mix."""
    def in_variant(exc: InputError) -> InputError:
        index, table, base = variant
        path = _variant_path(exc.key_path, data, table, index, base)
        message = exc.message
        if not path.startswith("variants["):
            message += f" (in variant {table['name']!r})"
        return InputError(exc.file, path, message)

    try:
        scn = scenario_from_dict(data, file)
        if counts:
            data = apply_unit_counts(data, scn, counts)
            scn = scenario_from_dict(data, file)
    except InputError as exc:
        if variant is None:
            raise
        raise in_variant(exc) from None
    if variant is not None and scn.warnings:
        scn = dataclasses.replace(scn, warnings=tuple(in_variant(w) for w in scn.warnings))
    return scn, data


def _unit_copy_table(unit, name: str) -> dict:
    """A complete [[units]] table that places another unit identical to `unit`."""
    table = {"name": name, "type": unit.spec.id, "east_m": unit.east_m, "north_m": unit.north_m,
             "facing_deg": unit.facing_deg}
    if unit.sensor is not None:
        table["sensor"] = unit.sensor
    catalog = defenses.load_fire_units().get(unit.spec.id)
    for key in defenses.UNIT_OVERRIDABLE:
        value = getattr(unit.spec, key)
        if catalog is None or getattr(catalog, key) != value:   # the unit's own overrides
            table[key] = copy.deepcopy(value)
    return table


def placements_of(placements, selector: str) -> list:
    """The units or sensors a key path or a count names: the one of that name, else every one
    of that catalog type (in layout order)."""
    return ([p for p in placements if p.name == selector]
            or [p for p in placements if p.spec.id == selector])


def apply_unit_counts(data: dict, scn: Scenario, counts: dict) -> dict:
    """Place `count` identical fire units for each {unit name or unit type: (count, key path)}.

    A unit name: that unit and count - 1 copies at its placement (0 removes it). A catalog type
    (no unit of that name): the first `count` units of that type in layout order are kept, or
    copies are added at their placements in turn."""
    data = copy.deepcopy(data)
    for selector, (count, path) in counts.items():
        check_unit_count(count, Where(scn.file, path))
        units = placements_of(scn.units, selector)
        if not units:
            names = [u.name for u in scn.units] + sorted({u.spec.id for u in scn.units})
            raise InputError(scn.file, path, f"no fire unit or fire-unit type '{selector}' in "
                             f"this scenario{suggest(selector, names)}; allowed: "
                             f"{allowed_list(names)}")
        if count < len(units):
            merge_placements(data, "units", [{"name": u.name, "remove": True}
                                             for u in units[count:]])
        taken = {u.name for u in scn.units}
        for k in range(count - len(units)):
            source = units[k % len(units)]
            n = 2
            while f"{source.name}_{n}" in taken:
                n += 1
            taken.add(f"{source.name}_{n}")
            data.setdefault("units", []).append(_unit_copy_table(source, f"{source.name}_{n}"))
    return data


# ----------------------------------------------------------------------------------------
# Key paths
SECTIONS = ("scenario", "c2", "raids", "units", "sensors")
KEY_PATH_HELP = ("raids.<index or name>.<key>, units.<name or type>.<key>, "
                 "sensors.<name or type>.<key>, c2.<key> or scenario.<key>")


@dataclasses.dataclass(frozen=True)
class KeyPath:
    """A parsed key path: section, selector (raid index / name, unit or sensor name / type)
    and the keys below it."""
    text: str
    section: str
    selector: int | str | None
    keys: tuple
    kind: str       # 'int' | 'float'


def _field_kinds(cls) -> dict[str, str]:
    return {key_of(f): f.metadata["kind"] for f in dataclasses.fields(cls) if "doc" in f.metadata}


def _section_kinds(section: str) -> dict[str, str]:
    """Numeric keys of a section and their kind (other keys cannot be swept)."""
    position = {k: "float" for k in POSITION_KEYS}
    if section == "scenario":
        return _field_kinds(ScenarioHeader)
    if section == "c2":
        return _field_kinds(C2)
    if section == "raids":
        return {**{k: v for k, v in _field_kinds(ThreatType).items()
                   if k in threats.OVERRIDABLE or k == "class"},
                **_field_kinds(RaidTiming), "count": "int", "launch_spread_m": "float",
                "aim_spread_m": "float", "ingress_bearing_deg": "float",
                "ingress_distance_m": "float", "launch": "position", "aim": "position"}
    if section == "units":
        kinds = {k: v for k, v in _field_kinds(FireUnitType).items()
                 if k in defenses.UNIT_OVERRIDABLE}
        return {**kinds, **position, "facing_deg": "float", "count": "int"}
    kinds = {k: v for k, v in _field_kinds(SensorType).items() if k in defenses.SENSOR_OVERRIDABLE}
    return {**kinds, **position, "facing_deg": "float"}


def parse_key_path(text: str) -> KeyPath:
    """Parse a dotted key path; raises ValueError with what is allowed."""
    parts = text.split(".")
    if not text or any(not p for p in parts):
        raise ValueError(f"'{text}' is not a key path; expected {KEY_PATH_HELP}")
    section = parts[0]
    if section not in SECTIONS:
        raise ValueError(f"unknown key path '{text}'{suggest(section, SECTIONS)}: it must start "
                         f"with scenario, c2, raids, units or sensors ({KEY_PATH_HELP})")
    if section in ("scenario", "c2"):
        selector, keys = None, tuple(parts[1:])
    else:
        if len(parts) < 3:
            example = {"raids": "raids.0.count", "units": "units.cram_north.magazine",
                       "sensors": "sensors.kurfs_north.range_m"}[section]
            raise ValueError(f"'{text}': a {section} key path names the entry and a key, "
                             f"e.g. {example}")
        sel = parts[1]
        selector = int(sel) if re.fullmatch(r"\d+", sel) else sel
        if section != "raids" and isinstance(selector, int):
            raise ValueError(f"'{text}': {section} are named, not numbered: use "
                             f"{section}.<name or type>.<key>")
        keys = tuple(parts[2:])
    if not keys:
        raise ValueError(f"'{text}': give a key after '{section}' ({KEY_PATH_HELP})")
    kinds = _section_kinds(section)
    key = keys[0]
    if key not in kinds:
        numeric = allowed_list(k for k, v in kinds.items() if v in ('int', 'float'))
        raise ValueError(f"unknown key '{key}' in '{text}'{suggest(key, kinds)}; numeric keys "
                         f"of {section}: {numeric}")
    kind = kinds[key]
    if (section, key) == ("scenario", "replications"):
        raise ValueError(f"'{text}': the replications per point are set for the whole run "
                         f"(--reps, else the file's scenario.replications), so they cannot be "
                         f"varied point by point; numeric keys of scenario: raid_scale, seed")
    if kind == "position":
        if len(keys) != 2 or keys[1] not in POSITION_KEYS:
            raise ValueError(f"'{text}': {key} takes one of {', '.join(POSITION_KEYS)}, e.g. "
                             f"raids.0.{key}.range_km")
        kind = "float"
    elif kind in ("class_map", "class_int_map"):
        from salvosim.engine.constants import THREAT_CLASSES
        if len(keys) != 2 or keys[1] not in THREAT_CLASSES:
            raise ValueError(f"'{text}': {key} takes a threat class: "
                             f"{', '.join(THREAT_CLASSES)}, e.g. units.cram.{key}.drone")
        kind = "float" if kind == "class_map" else "int"
    elif len(keys) > 1:
        raise ValueError(f"'{text}': '{key}' has no keys below it")
    if kind not in ("int", "float"):
        raise ValueError(f"'{text}' is not a number ({kind}) and cannot be swept")
    return KeyPath(text, section, selector, keys, kind)


def _set_nested(table: dict, keys: tuple, value, seed: Callable[[str], Any] | None = None) -> None:
    for k in keys[:-1]:
        if not isinstance(table.get(k), dict):
            start = seed(k) if seed is not None else None
            table[k] = dict(start) if isinstance(start, dict) else {}
        table = table[k]
    table[keys[-1]] = value


def apply_key(data: dict, kp: KeyPath, value, scn: Scenario, counts: dict) -> None:
    """Set the value at key path `kp` in scenario data `data` (validated as `scn`).

    Units and sensors are found by name, else every one of that catalog type; one that comes
    only from the layout gets an override table {name = ..., key = value}."""
    if kp.section in ("scenario", "c2"):
        _set_nested(data.setdefault(kp.section, {}), kp.keys, value)
        return
    if kp.section == "raids":
        raids = data.get("raids", [])
        if isinstance(kp.selector, int):
            if kp.selector >= len(raids):
                raise ValueError(f"'{kp.text}': raid {kp.selector} does not exist; this scenario "
                                 f"has {len(raids)} raid(s), numbered 0 .. {len(raids) - 1}")
            raid = raids[kp.selector]
        else:
            names = [r.get("name", r.get("type")) for r in raids]
            if kp.selector not in names:
                raise ValueError(f"'{kp.text}': no raid named '{kp.selector}'"
                                 f"{suggest(kp.selector, names)}; raids: {allowed_list(names)} "
                                 f"(or their numbers 0 .. {len(raids) - 1})")
            raid = raids[names.index(kp.selector)]
        if (len(kp.keys) == 2 and kp.keys[0] == "launch" and kp.keys[1] in POSITION_KEYS
                and isinstance(raid.get("launch"), dict)):
            # one coordinate of the launch point: the other one of its form stays where the
            # launch point is (scn.raids are in file order)
            placed = scn.raids[raids.index(raid)]
            _set_position_key(raid["launch"], kp.keys[1], value, placed.launch_e,
                              placed.launch_n, scn)
            return
        _set_nested(raid, kp.keys, value)
        return
    placements = scn.units if kp.section == "units" else scn.sensors
    if kp.section == "units" and kp.keys == ("count",):
        counts[kp.selector] = (value, kp.text)
        return
    chosen = placements_of(placements, kp.selector)
    if not chosen:
        names = [p.name for p in placements] + sorted({p.spec.id for p in placements})
        what, kind = ("fire unit", "fire-unit type") if kp.section == "units" else ("sensor", "sensor type")
        raise ValueError(f"'{kp.text}': no {what} or {kind} '{kp.selector}' in this "
                         f"scenario{suggest(kp.selector, names)}; allowed: {allowed_list(names)}")
    entries = data.setdefault(kp.section, [])
    for p in chosen:
        entry = next((e for e in entries if e.get("name") == p.name), None)
        if entry is None:
            entry = {"name": p.name}
            entries.append(entry)
        if kp.keys[0] in POSITION_KEYS and len(kp.keys) == 1:
            # one coordinate: the other of its form stays where the unit is now (the
            # layout's place, or the mix's)
            _set_position_key(entry, kp.keys[0], value, p.east_m, p.north_m, scn)
            continue
        _set_nested(entry, kp.keys, value, seed=lambda k, p=p: getattr(p.spec, k, None))


def _set_position_key(entry: dict, key: str, value, e: float, n: float, scn: Scenario) -> None:
    """Set one position key in a table whose point is now at (e, n) m: the other key of its
    form is that point's, and keys of another form go."""
    from salvosim.bases.geo import bearing_of_en_deg, en_to_latlon
    form = next(f for f in POSITION_FORMS if key in f)
    if not all(k in entry for k in form):
        if form == ("east_m", "north_m"):
            now = (e, n)
        elif form == ("bearing_deg", "range_km"):
            now = (bearing_of_en_deg(e, n), math.hypot(e, n) / 1000.0)
        else:
            now = en_to_latlon(e, n, scn.base.lat_deg, scn.base.lon_deg)
        for k in POSITION_KEYS:
            entry.pop(k, None)
        entry.update(zip(form, now))
    entry[key] = value


# ----------------------------------------------------------------------------------------
# --vary specifications
@dataclasses.dataclass(frozen=True)
class VarySpec:
    """One --vary option: a key path and the values it takes."""
    text: str
    path: KeyPath
    values: tuple


def _number(token: str) -> int | float:
    token = token.strip()
    if re.fullmatch(r"[+-]?\d+", token):
        return int(token)
    value = float(token)          # ValueError for junk
    if not math.isfinite(value):
        raise ValueError(token)
    return value


def parse_vary(text: str) -> VarySpec:
    """KEY=START:STOP:STEP (STOP included) or KEY=V1,V2,...; raises UsageError."""
    usage = ("expected KEY=START:STOP:STEP (STOP included, e.g. raids.0.count=10:200:10) or "
             "KEY=V1,V2,...")
    if "=" not in text:
        raise UsageError(f"--vary {text!r}: {usage}")
    key, _, spec = text.partition("=")
    key, spec = key.strip(), spec.strip()
    try:
        kp = parse_key_path(key)
    except ValueError as exc:
        raise UsageError(f"--vary {text}: {exc}") from None
    if not spec:
        raise UsageError(f"--vary {text}: no values; {usage}")
    if ":" in spec:
        parts = spec.split(":")
        if len(parts) != 3:
            raise UsageError(f"--vary {text}: '{spec}' is not a range; {usage}")
        try:
            start, stop, step = (_number(p) for p in parts)
        except ValueError:
            raise UsageError(f"--vary {text}: START, STOP and STEP must be numbers; {usage}") from None
        if step <= 0:
            raise UsageError(f"--vary {text}: STEP must be > 0, got {step}")
        if stop < start:
            raise UsageError(f"--vary {text}: STOP ({stop}) is below START ({start}); "
                             f"allowed: START <= STOP")
        span = (stop - start) / step
        n = int(math.floor(span + 1e-9)) + 1 if span <= 10 * MAX_GRID_POINTS else math.inf
        if n > MAX_GRID_POINTS:
            many = f"{n}" if math.isfinite(n) else "too many"
            raise UsageError(f"--vary {text}: {many} values; at most {MAX_GRID_POINTS} grid "
                             f"points are allowed (use a larger STEP)")
        exact = all(isinstance(x, int) for x in (start, stop, step))
        values = [start + i * step if exact else round(start + i * step, 10) for i in range(n)]
    else:
        try:
            values = [_number(p) for p in spec.split(",")]
        except ValueError:
            raise UsageError(f"--vary {text}: values must be numbers; {usage}") from None
        if len(set(values)) != len(values):
            raise UsageError(f"--vary {text}: a value is repeated")
    if kp.kind == "int":
        if any(float(v) != int(v) for v in values):
            raise UsageError(f"--vary {text}: {key} takes whole numbers, got "
                             f"{next(v for v in values if float(v) != int(v))}")
        values = [int(v) for v in values]
    return VarySpec(text=f"{key}={spec}", path=kp, values=tuple(values))


def parse_vary_list(texts: list[str]) -> list[VarySpec]:
    specs = [parse_vary(t) for t in texts]
    keys = [s.path.text for s in specs]
    for k in keys:
        if keys.count(k) > 1:
            raise UsageError(f"--vary {k}: given more than once")
    n = math.prod(len(s.values) for s in specs)
    if n > MAX_GRID_POINTS:
        raise UsageError(f"--vary: {n} grid points ({' x '.join(str(len(s.values)) for s in specs)}); "
                         f"at most {MAX_GRID_POINTS} are allowed")
    return specs


def _key_target(kp: KeyPath, data: dict, scn: Scenario) -> tuple[str, frozenset, tuple]:
    """What a key path sets in a mix: (section, the raids / placements it reaches, keys). A
    raid by number or by name, a fire unit or sensor by name or by catalog type, resolve to
    the same targets (an unknown one to none: apply_key then says so)."""
    if kp.section in ("scenario", "c2"):
        return kp.section, frozenset({""}), kp.keys
    if kp.section == "raids":
        raids = data.get("raids", [])
        if isinstance(kp.selector, int):
            return "raids", frozenset({kp.selector}), kp.keys
        names = [r.get("name", r.get("type")) for r in raids]
        return "raids", frozenset(i for i, n in enumerate(names) if n == kp.selector), kp.keys
    placements = scn.units if kp.section == "units" else scn.sensors
    return kp.section, frozenset(p.name for p in placements_of(placements, kp.selector)), kp.keys


def check_distinct_targets(specs: list[VarySpec], data: dict, scn: Scenario) -> None:
    """Two --vary options that set the same value (raids.0.count and raids.<its name>.count,
    a unit's type and its name) would let one silently override the other at every point:
    refused, naming both."""
    targets = [_key_target(s.path, data, scn) for s in specs]

    def form(keys):         # (the point's table, position form) of a position key, or None
        point = () if keys[:-1] == () else keys[:-1] if keys[:-1] == ("launch",) else None
        f = next((f for f in POSITION_FORMS if keys[-1] in f), None)
        return None if point is None or f is None else (point, f)
    for i, (sec, reach, keys) in enumerate(targets):
        for k in range(i + 1, len(specs)):
            sec2, reach2, keys2 = targets[k]
            # two keys of one position form (east_m, north_m) set one coordinate each; two
            # forms (east_m, range_km) would each place the point, the last one winning
            f1, f2 = form(keys), form(keys2)
            clash = keys == keys2 or (f1 is not None and f2 is not None and f1[0] == f2[0]
                                      and f1[1] != f2[1])
            if sec == sec2 and clash and reach & reach2:
                which = ", ".join(sorted(map(str, reach & reach2)))
                what = {"raids": f"of raid {which}", "units": f"of fire unit(s) {which}",
                        "sensors": f"of sensor(s) {which}"}.get(sec, f"in [{sec}]")
                key_text = ".".join(keys) if keys == keys2 else "the position"
                raise UsageError(f"--vary {specs[i].path.text} and --vary {specs[k].path.text} "
                                 f"both set {key_text} {what}; give only one of them")


def point_scenarios(scn: Scenario, specs: list[VarySpec], values: tuple,
                    seed: int | None = None) -> list[Variant]:
    """Every defense mix of the scenario with the swept keys set to `values`.

    A swept key is set after the mix is applied, so it holds in every mix."""
    out = []
    for v in variants_of(scn, seed):
        check_distinct_targets(specs, v.data, v.scenario)
        data = copy.deepcopy(v.data)
        counts: dict = {}
        for spec, value in zip(specs, values):
            try:
                apply_key(data, spec.path, value, v.scenario, counts)
            except ValueError as exc:
                raise UsageError(f"--vary {spec.text}: {exc}"
                                 + (f" (variant '{v.name}')" if v.name != BASELINE else "")) from None
        try:
            s, data = build_scenario(data, counts, scn.file)
        except InputError as exc:
            label = ", ".join(f"{sp.path.text} = {val}" for sp, val in zip(specs, values))
            raise UsageError(f"--vary: value rejected at {label}"
                             + (f" in variant '{v.name}'" if v.name != BASELINE else "")
                             + f": {exc.key_path}: {exc.message}") from None
        out.append(Variant(v.name, v.description, s, data))
    return out


def with_checked_mixes(scn: Scenario) -> Scenario:
    """Build each defense mix of a scenario once, so that a mistake in [[variants]] is found on
    loading (its key path named); their warnings join the scenario's."""
    if not scn.raw.get("variants"):
        return scn
    notes = list(scn.warnings)
    for v in variants_of(scn):
        notes.extend(v.scenario.warnings)
    return dataclasses.replace(scn, warnings=unique_notes(notes))


def load_scenario(path) -> Scenario:
    """Read and validate a scenario file, and build each of its defense mixes once."""
    return with_checked_mixes(read_scenario(path))


def scenario_from_data(data: dict, file: str) -> Scenario:
    """As load_scenario, from TOML data already read (file names it in messages)."""
    return with_checked_mixes(scenario_from_dict(data, file))
