"""Scenario files (MODEL.md §2): TOML -> validated scenario objects, in one place.

A scenario names a base and one of its layouts, may add, change or remove sensors and fire
units, sets C2 rules and lists raids. Every catalog value can be overridden per raid, per unit
and per sensor by giving the catalog key in that table. Every check lives here (and in
engine.schema); each failure is one InputError naming the file, the key path and what is
allowed. The result is compiled into arrays by engine.compile.
"""
from __future__ import annotations

import copy
import dataclasses
import decimal
import math
from pathlib import Path
from typing import Any

from shapely.geometry import Polygon

from salvosim import bases as bases_pkg
from salvosim import defenses, threats
from salvosim.bases.geo import bearing_range_to_en, latlon_to_en
from salvosim.defenses import FireUnitType, SensorType
from salvosim.engine.constants import BALLISTIC_CLASSES, CRUISE_CLASSES
from salvosim.engine.schema import (
    MAX_DISTANCE_M,
    MAX_SEED,
    MAX_TIME_S,
    InputError,
    Where,
    allowed_list,
    bound_of,
    bounded,
    build,
    check_keys,
    check_printable_name,
    check_value,
    read_toml,
    short_value,
    spec,
    suggest,
)
from salvosim.threats import ThreatType

MAP_MARGIN_M = 10_000.0   # aim points must lie within the perimeter's box grown by this
MAX_RAIDS = 100           # [[raids]] tables in a scenario
MAX_THREATS = 10_000      # threats of all raids together (memory grows with threats x units)
MAX_UNITS = 100           # fire units after the layout, the scenario and unit counts
MAX_SENSORS = 100
MAX_UNIT_COPIES = 100     # `count` of a fire unit (variants and --vary units.<x>.count)
MIN_PLAUSIBLE_SENSOR_RANGE_M = 500.0
POSITION_FORMS = (("east_m", "north_m"), ("bearing_deg", "range_km"), ("lat_deg", "lon_deg"))
POSITION_KEYS = tuple(k for form in POSITION_FORMS for k in form)


def number_meta(key: str, **declared) -> dict:
    """Metadata of a number read outside a dataclass field, with the physical limits of `key`
    (engine.schema.KEY_LIMITS / SUFFIX_LIMITS) narrowed by `declared` bounds."""
    meta = {"kind": "float", "lo": None, "hi": None, "lo_open": False, "choices": None}
    meta.update(declared)
    return bounded(meta, key)


def check_unit_count(value, where: Where) -> int:
    """`count` of a fire unit: the same rule in [[variants]] and in --vary units.<x>.count."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_UNIT_COPIES:
        raise where.error(f"{short_value(value)}: expected a whole number 0 .. {MAX_UNIT_COPIES} "
                          f"(identical units at this placement; 0 removes it)")
    return value


# ----------------------------------------------------------------------------------------
# Plain tables with documented keys
@dataclasses.dataclass(frozen=True)
class ScenarioHeader:
    """The [scenario] table."""
    name: str = spec("scenario name", kind="str")
    base: Any = spec("base id (a file in bases/), or an inline base table `[scenario.base]` "
                     "(see Inline base)", kind="base")
    layout: str = spec("layout name of that base (required for a base id; an inline base: "
                       "optional, none = no layout)", default="", kind="str")
    description: str = spec("free text", default="", kind="str")
    seed: int = spec("random seed (0 .. 2^63-1)", default=1, kind="int", lo=0, hi=MAX_SEED)
    replications: int = spec("default number of Monte Carlo replications", default=1000,
                             kind="int", lo=1)
    defended_area_m: list = spec("polygon [[east_m, north_m], ...] of the defended area "
                                 "(default: the base perimeter)", default=[], kind="polygon")
    raid_scale: float = spec("multiplies every raid's count (rounded half up, at least 1): one "
                             "key that grows the whole attack, e.g. --vary "
                             "scenario.raid_scale=0.5:4:0.5",
                             default=1.0, kind="float", lo=0.01, hi=100.0)


@dataclasses.dataclass(frozen=True)
class C2:
    """The [c2] table: command and control rules (MODEL.md §4, §6)."""
    network: bool = spec("units share tracks over the network (with latency_s)", default=True,
                         kind="bool")
    latency_s: float = spec("delay of a track shared over the network, s", default=2.0,
                            kind="float", lo=0.0)
    double_engagement: bool = spec("allow a threat to be engaged by several units at once",
                                   default=False, kind="bool")
    priority: str = spec("target priority: time_to_impact | value | nearest",
                         default="time_to_impact", kind="str",
                         choices=("time_to_impact", "value", "nearest"))
    decoy_discrimination: float = spec(
        "probability that a decoy is recognised as one when first tracked (never engaged then)",
        default=0.0, kind="float", lo=0.0, hi=1.0)
    assignment: str = spec(
        "weapon assignment: autonomous (each unit picks its own targets) | central (the C2 "
        "assigns each threat to the unit with the lowest cost per expected kill; needs network)",
        default="autonomous", kind="str", choices=("autonomous", "central"))

    def validate(self, where) -> None:
        if self.assignment == "central" and not self.network:
            raise where.at("assignment").error(
                "'central' needs network = true (the C2 assigns over the network)")


@dataclasses.dataclass(frozen=True)
class RaidTiming:
    """Launch schedule keys of a [[raids]] table."""
    start_s: float = spec("first launch time, s", default=0.0, kind="float", lo=0.0)
    interval_s: float = spec("fixed interval between launches, s", default=0.0, kind="float", lo=0.0)
    rate_per_min: float = spec("Poisson arrivals at this rate per minute (instead of interval_s)",
                               default=0.0, kind="float", lo=0.0)
    jitter_s: float = spec("uniform jitter [0, jitter_s) added to each fixed launch time "
                           "(not with rate_per_min)",
                           default=0.0, kind="float", lo=0.0)


# Keys of a [[raids]] table besides the timing keys and the threat catalog overrides.
RAID_KEYS = {
    "name": "raid name (default: the threat type)",
    "type": "threat type id (threats/catalog.toml)",
    "count": "number of threats (integer >= 1)",
    "launch": "launch site: {east_m, north_m} | {bearing_deg, range_km} | {lat_deg, lon_deg}",
    "launch_spread_m": "standard deviation of each launch point about the site, m",
    "aim": "asset name | 'random_asset' | {east_m, north_m} (or another position form)",
    "aim_spread_m": "standard deviation of the aim point about the target, m",
    "ingress_bearing_deg": "cruise threats: arrive from this bearing (with ingress_distance_m)",
    "ingress_distance_m": "cruise threats: distance of the ingress waypoint from the target, m",
}
PLACEMENT_KEYS = {
    "name": "unique name in the layout",
    "type": "catalog id (defenses/sensors.toml or defenses/fire_units.toml)",
    "east_m": "position east of the reference point, m (with north_m)",
    "north_m": "position north of the reference point, m",
    "bearing_deg": "position as bearing from the reference point (with range_km)",
    "range_km": "position as ground range from the reference point, km",
    "lat_deg": "position latitude (with lon_deg)",
    "lon_deg": "position longitude",
    "facing_deg": "centre azimuth of the sector, degrees clockwise from north",
    "remove": "scenario only: true removes the layout's entry of that name",
}
UNIT_ONLY_KEYS = {"sensor": "name of the unit's own sensor (its organic radar)"}


# ----------------------------------------------------------------------------------------
# Validated objects
@dataclasses.dataclass(frozen=True)
class SensorPlacement:
    name: str
    east_m: float
    north_m: float
    facing_deg: float
    spec: SensorType


@dataclasses.dataclass(frozen=True)
class UnitPlacement:
    name: str
    east_m: float
    north_m: float
    facing_deg: float
    sensor: str | None
    spec: FireUnitType


@dataclasses.dataclass(frozen=True)
class Raid:
    name: str
    threat: ThreatType
    count: int
    launch_e: float
    launch_n: float
    launch_spread_m: float
    timing: RaidTiming
    aim_mode: str            # "asset" | "random_asset" | "point"
    aim_asset: str | None
    aim_e: float
    aim_n: float
    aim_spread_m: float
    ingress_bearing_deg: float | None
    ingress_distance_m: float


@dataclasses.dataclass(frozen=True)
class Scenario:
    file: str
    header: ScenarioHeader
    base: Any                # bases.Base
    sensors: tuple
    units: tuple
    c2: C2
    raids: tuple
    defended_area: Polygon
    raw: dict                # the TOML data as read (sweeps and variants edit copies)
    warnings: tuple = ()     # InputError-like notes: overrides that do not apply, implausible values

    @property
    def name(self) -> str:
        return self.header.name

    @property
    def layout_name(self) -> str:
        return self.header.layout or "none"

    @property
    def n_threats(self) -> int:
        return sum(r.count for r in self.raids)


# ----------------------------------------------------------------------------------------
def read_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file; raises InputError on any mistake."""
    return scenario_from_dict(read_toml(path), str(path))


def resolve_base(value, layout_name: str, where: Where, file: str):
    """(Base, Layout) of a [scenario] table's `base` (a catalog id or an inline table) and
    `layout`. `where` is the [scenario] table."""
    if isinstance(value, str):
        if value not in bases_pkg.base_ids():
            raise where.at("base").error(
                f"unknown base {value!r}{suggest(value, bases_pkg.base_ids())}; "
                f"allowed: {allowed_list(bases_pkg.base_ids())}, or an inline base table")
        base = bases_pkg.load_base(value)
        if not layout_name:
            raise where.error(f"missing required key 'layout' (a layout of base {base.id}; "
                              f"allowed: {allowed_list(base.layouts)})")
    elif isinstance(value, dict):
        base = bases_pkg.base_from_dict(value, where.at("base"), "inline", file, inline=True)
        if not layout_name:
            return base, bases_pkg.Layout("", "no layout", (), (), where.at("base"))
    else:
        raise where.at("base").error(f"expected a base id (string) or an inline base table "
                                     f"([scenario.base]), got {short_value(value)}")
    if layout_name not in base.layouts:
        raise where.at("layout").error(
            f"unknown layout {layout_name!r} of base {base.id}"
            f"{suggest(layout_name, base.layouts)}; allowed: "
            f"{allowed_list(base.layouts) or '(none: omit layout)'}")
    return base, base.layouts[layout_name]


def scenario_from_dict(data: dict, file: str) -> Scenario:
    where = Where(file)
    if not isinstance(data, dict):
        raise where.error(f"expected a scenario table, got {short_value(data)}")
    check_keys(data, ("scenario", "c2", "sensors", "units", "raids", "variants"), where)
    if "scenario" not in data:
        raise where.error("missing the [scenario] table (name, base, layout, ...)")
    header_table = dict(data["scenario"]) if isinstance(data["scenario"], dict) else data["scenario"]
    header = build(ScenarioHeader, header_table, where.at("scenario"))
    if not header.name.strip():
        raise where.at("scenario.name").error("expected a non-empty scenario name")
    check_printable_name(header.name, where.at("scenario.name"))
    base, layout = resolve_base(header.base, header.layout, where.at("scenario"), file)

    defended = base.perimeter
    defended_key = "scenario.base"        # where the defended area comes from (warnings)
    inline_area = header.base.get("defended_area_m") if isinstance(header.base, dict) else None
    if header.defended_area_m and inline_area is not None:
        raise where.at("scenario.defended_area_m").error(
            "the inline base gives defended_area_m too; give it in one place only")
    if header.defended_area_m:
        defended = bases_pkg.read_polygon(header.defended_area_m, where.at("scenario.defended_area_m"))
        defended_key = "scenario.defended_area_m"
    elif inline_area is not None:
        defended = bases_pkg.read_polygon(inline_area, where.at("scenario.base.defended_area_m"))
        defended_key = "scenario.base.defended_area_m"

    notes: list[InputError] = []
    outside = [a.name for a in base.assets if not defended.intersects(a.polygon)]
    if outside:
        # Its hits still count (damage, MODEL.md §7), but no threat aimed at it is a leaker,
        # and the units that engage only predicted impacts in the defended area never defend it.
        notes.append(where.at(defended_key).error(
            f"asset(s) {', '.join(map(repr, outside))} lie outside the defended area: threats "
            f"that hit them are not leakers, and units with defended_area_only (C-RAM) never "
            f"engage them"))
    c2 = build(C2, data.get("c2", {}), where.at("c2"))
    sensors = _merge_placements(layout.sensors, layout.where.at("sensors"), data.get("sensors", []),
                                where.at("sensors"), base,
                                lambda t, w, b, p: _read_sensor(t, w, b, p, notes))
    sensor_names = [s.name for s, _ in sensors]
    units = _merge_placements(layout.units, layout.where.at("units"), data.get("units", []),
                              where.at("units"), base,
                              lambda t, w, b, p: _read_unit(t, w, b, p, notes))
    for what, items, limit in (("sensors", sensors, MAX_SENSORS), ("units", units, MAX_UNITS)):
        if len(items) > limit:
            raise where.at(what).error(f"{len(items)} {what} in all (layout and scenario); "
                                       f"allowed: at most {limit}")
    removed = {t["name"]: where.at("sensors").at(i) for i, t in enumerate(data.get("sensors", []))
               if t.get("remove") is True}
    for u, w in units:
        if u.sensor is not None and u.sensor not in sensor_names and u.sensor in removed:
            # The mistake is the scenario's removal, not the base file's unit.
            raise removed[u.sensor].at("remove").error(
                f"cannot remove sensor '{u.sensor}': fire unit '{u.name}' uses it as its own "
                f"sensor; also remove that unit (remove = true) or give it another sensor")
        if u.sensor is not None and u.sensor not in sensor_names:
            raise w.at("sensor").error(f"unknown sensor '{u.sensor}'{suggest(u.sensor, sensor_names)}; "
                                       f"allowed: {allowed_list(sensor_names) or '(no sensors)'}")

    raids_data = data.get("raids", [])
    if not isinstance(raids_data, list) or not raids_data:
        raise where.at("raids").error("expected at least one [[raids]] table")
    if len(raids_data) > MAX_RAIDS:
        raise where.at("raids").error(f"{len(raids_data)} raids; allowed: at most {MAX_RAIDS}")
    raids = tuple(_read_raid(t, where.at("raids").at(i), base, notes)
                  for i, t in enumerate(raids_data))
    for i, raid in enumerate(raids):
        if any(r.name == raid.name for r in raids[:i]):
            key = where.at("raids").at(i)
            key = key.at("name") if "name" in raids_data[i] else key
            raise key.error(
                f"duplicate raid name {raid.name!r} (a raid without 'name' is named after its "
                f"type); give each raid its own name: results and --vary raids.<name>.<key> "
                f"tell raids apart by name")
    if header.raid_scale != 1.0:
        raids = tuple(dataclasses.replace(r, count=scaled_count(r.count, header.raid_scale))
                      for r in raids)
        for i, r in enumerate(raids):
            _check_schedule(r.timing, r.count, where.at("raids").at(i))
    total = sum(r.count for r in raids)
    if total > MAX_THREATS:
        raise where.at("raids").error(f"{total:,} threats in all raids together; allowed: at "
                                      f"most {MAX_THREATS:,}")

    variants = data.get("variants", [])
    if not isinstance(variants, list):
        raise where.at("variants").error("expected an array of [[variants]] tables")
    scn = Scenario(file=file, header=header, base=base, sensors=tuple(s for s, _ in sensors),
                   units=tuple(u for u, _ in units), c2=c2, raids=raids, defended_area=defended,
                   raw=copy.deepcopy(data), warnings=tuple(notes))
    return scn


def unique_notes(notes) -> tuple:
    seen, out = set(), []
    for n in notes:
        if str(n) not in seen:
            seen.add(str(n))
            out.append(n)
    return tuple(out)


# ----------------------------------------------------------------------------------------
def read_position(table: dict, where: Where, base, required: bool = True):
    """(east_m, north_m) from one of the three position forms in `table`."""
    present = [form for form in POSITION_FORMS if any(k in table for k in form)]
    if not present:
        if required:
            raise where.error("missing position: give east_m + north_m, bearing_deg + range_km, "
                              "or lat_deg + lon_deg")
        return None
    if len(present) > 1:
        raise where.error("give one position form only: east_m + north_m, bearing_deg + "
                          "range_km, or lat_deg + lon_deg")
    form = present[0]
    for k in form:
        if k not in table:
            raise where.error(f"'{form[0]}' and '{form[1]}' go together; missing '{k}'")
    a = check_value(table[form[0]], number_meta(form[0]), where.at(form[0]))
    b = check_value(table[form[1]], number_meta(form[1]), where.at(form[1]))
    if form == ("east_m", "north_m"):
        return a, b
    if form == ("bearing_deg", "range_km"):
        return bearing_range_to_en(a, b * 1000.0)
    if not -90.0 <= a <= 90.0:
        raise where.at("lat_deg").error(f"{a!r} is out of range; allowed: -90 .. 90")
    if not -180.0 <= b <= 180.0:
        raise where.at("lon_deg").error(f"{b!r} is out of range; allowed: -180 .. 180")
    east_m, north_m = latlon_to_en(a, b, base.lat_deg, base.lon_deg)
    if max(abs(east_m), abs(north_m)) > MAX_DISTANCE_M:
        raise where.error(
            f"lat_deg {a!r}, lon_deg {b!r} lies {east_m / 1000:,.0f} km east and "
            f"{north_m / 1000:,.0f} km north of the base's reference point; allowed: within "
            f"{MAX_DISTANCE_M / 1000:,.0f} km east and north of it, as for east_m and north_m")
    return east_m, north_m


def _split(table: dict, own_keys, overridable, where: Where):
    """Split a placement/raid table into its own keys and catalog overrides."""
    allowed = list(own_keys) + list(overridable)
    check_keys(table, allowed, where)
    own = {k: v for k, v in table.items() if k in own_keys}
    over = {k: v for k, v in table.items() if k not in own_keys}
    return own, over


def _lookup(kind: str, type_id, catalog: dict, where: Where):
    if not isinstance(type_id, str):
        raise where.error(f"expected a {kind} type id (string), got {type_id!r}")
    if type_id not in catalog:
        raise where.error(f"unknown {kind} type '{type_id}'{suggest(type_id, catalog)}; "
                          f"allowed: {allowed_list(catalog)}")
    return catalog[type_id]


def _facing(own: dict, where: Where) -> float:
    if "facing_deg" not in own:
        return 0.0
    return check_value(own["facing_deg"], number_meta("facing_deg"), where.at("facing_deg"))


# Catalog keys that only apply to some kinds of entries: giving one elsewhere is a warning
# (the value is ignored), e.g. altitude_m on a rocket or apogee_m on a drone.
RAID_ONLY_FOR = {"altitude_m": CRUISE_CLASSES, "dive_distance_m": CRUISE_CLASSES,
                 "apogee_ratio": BALLISTIC_CLASSES, "apogee_m": BALLISTIC_CLASSES}
UNIT_ONLY_FOR = {"channel_hold": ("missile",), "cycle_s": ("missile",),
                 "burst_s": ("gun",), "rounds_per_shot": ("gun",),
                 "dwell_s": ("laser",), "dwell_ref_range_m": ("laser",),
                 "magazine": ("missile", "gun"), "reserve": ("missile", "gun"),
                 "reload_s": ("missile", "gun"), "speed_mps": ("missile", "gun")}


def _does_not_apply(over: dict, only_for: dict, what: str, where: Where, notes: list) -> None:
    for key in over:
        if key in only_for and what not in only_for[key]:
            allowed = " and ".join(k.replace("_", " ") + "s" for k in only_for[key])
            notes.append(where.at(key).error(f"{key} does not apply to a "
                                             f"{what.replace('_', ' ')} (only to {allowed}); "
                                             f"it is ignored"))


def _read_sensor(table: dict, where: Where, base, previous: SensorPlacement | None,
                 notes: list | None = None):
    own, over = _split(table, PLACEMENT_KEYS, defenses.SENSOR_OVERRIDABLE, where)
    catalog = defenses.load_sensors()
    if previous is None or "type" in own:
        if "type" not in own:
            raise where.error("missing required key 'type'")
        parent = _lookup("sensor", own["type"], catalog, where.at("type"))
    else:
        parent = previous.spec
    sensor_spec = build(SensorType, over, where, base=parent)
    if notes is not None:
        if "range_m" in over and sensor_spec.range_m < MIN_PLAUSIBLE_SENSOR_RANGE_M:
            notes.append(where.at("range_m").error(
                f"{sensor_spec.range_m:g} m is an implausibly short sensor range (below "
                f"{MIN_PLAUSIBLE_SENSOR_RANGE_M:g} m; range_m is in metres)"))
        if "rcs_ref_m2" in over and not sensor_spec.rcs_scaling:
            notes.append(where.at("rcs_ref_m2").error(
                "rcs_ref_m2 does not apply to a sensor with rcs_scaling = false; it is ignored"))
    pos = read_position(own, where, base, required=previous is None)
    e, n = pos if pos is not None else (previous.east_m, previous.north_m)
    facing = _facing(own, where) if ("facing_deg" in own or previous is None) else previous.facing_deg
    return SensorPlacement(own["name"], e, n, facing, sensor_spec)


def _read_unit(table: dict, where: Where, base, previous: UnitPlacement | None,
               notes: list | None = None):
    own, over = _split(table, {**PLACEMENT_KEYS, **UNIT_ONLY_KEYS}, defenses.UNIT_OVERRIDABLE, where)
    catalog = defenses.load_fire_units()
    if previous is None or "type" in own:
        if "type" not in own:
            raise where.error("missing required key 'type'")
        parent = _lookup("fire unit", own["type"], catalog, where.at("type"))
    else:
        parent = previous.spec
    unit_spec = build(FireUnitType, over, where, base=parent)
    if notes is not None:
        _does_not_apply(over, UNIT_ONLY_FOR, unit_spec.kind, where, notes)
    pos = read_position(own, where, base, required=previous is None)
    e, n = pos if pos is not None else (previous.east_m, previous.north_m)
    facing = _facing(own, where) if ("facing_deg" in own or previous is None) else previous.facing_deg
    sensor = own.get("sensor", previous.sensor if previous else None)
    if sensor is not None and not isinstance(sensor, str):
        raise where.at("sensor").error(f"expected a sensor name (string), got {sensor!r}")
    return UnitPlacement(own["name"], e, n, facing, sensor, unit_spec)


def _merge_placements(layout_tables, layout_where: Where, scenario_tables, scen_where: Where,
                      base, read):
    """Layout entries, then the scenario's: same name overrides (or removes), new name adds."""
    out: list = []   # (placement, where)
    for i, table in enumerate(layout_tables):
        w = layout_where.at(i)
        _check_name(table, w, [p.name for p, _ in out])
        if "remove" in table:
            raise w.at("remove").error("'remove' is only allowed in a scenario's own tables")
        out.append((read(table, w, base, None), w))
    if not isinstance(scenario_tables, list):
        raise scen_where.error("expected an array of tables ([[...]])")
    seen: list = []   # names given in the scenario's own tables: each at most once
    for i, table in enumerate(scenario_tables):
        w = scen_where.at(i)
        names = [p.name for p, _ in out]
        _check_name(table, w, seen)
        seen.append(table["name"])
        name = table["name"]
        remove = table.get("remove", False)
        if not isinstance(remove, bool):
            raise w.at("remove").error(f"expected true or false, got {short_value(remove)}")
        if remove:
            check_remove_alone(table, w)
        if name in names:
            k = names.index(name)
            if remove:
                out.pop(k)
            else:
                out[k] = (read(table, w, base, out[k][0]), w)
        elif remove:
            raise w.at("name").error(f"cannot remove '{name}': no such entry in the layout"
                                     f"{suggest(name, names)}; entries: {allowed_list(names)}")
        else:
            out.append((read(table, w, base, None), w))
    return out


def check_remove_alone(table: dict, where: Where) -> None:
    """`remove = true` takes no other key than the name: anything beside it would be ignored."""
    extra = [k for k in table if k not in ("name", "remove")]
    if extra:
        raise where.at(extra[0]).error(
            f"'remove = true' removes the entry, so {', '.join(map(repr, extra))} would be "
            f"ignored; allowed beside it: name only")


def _check_name(table, where: Where, taken) -> None:
    if not isinstance(table, dict):
        raise where.error(f"expected a table, got {short_value(table)}")
    if "name" not in table:
        raise where.error("missing required key 'name'")
    if not isinstance(table["name"], str) or not table["name"]:
        raise where.at("name").error(f"expected a non-empty string, got {short_value(table['name'])}")
    check_printable_name(table["name"], where.at("name"))
    if table["name"] in taken:
        raise where.at("name").error(f"duplicate name {table['name']!r}; each name may appear "
                                     f"only once in this list")


def asset_aim_point(asset) -> tuple[float, float]:
    """Where a threat aimed at an asset aims: its centroid, or a point inside if that is not."""
    c = asset.polygon.centroid
    if not asset.polygon.contains(c):
        c = asset.polygon.representative_point()
    return float(c.x), float(c.y)


def _read_raid(table: Any, where: Where, base, notes: list | None = None) -> Raid:
    if not isinstance(table, dict):
        raise where.error(f"expected a table, got {short_value(table)}")
    timing_keys = [f.name for f in dataclasses.fields(RaidTiming)]
    own, over = _split(table, list(RAID_KEYS) + timing_keys, threats.OVERRIDABLE, where)
    if "type" not in own:
        raise where.error("missing required key 'type'")
    parent = _lookup("threat", own["type"], threats.load_catalog(), where.at("type"))
    if "cep_m" in over and "cep_frac_of_range" not in over:
        over["cep_frac_of_range"] = 0.0
    if "cep_frac_of_range" in over and "cep_m" not in over:
        over["cep_m"] = 0.0
    threat = build(ThreatType, over, where, base=parent)
    if notes is not None:
        _does_not_apply(over, RAID_ONLY_FOR, threat.threat_class, where, notes)
    name = own.get("name", threat.id)
    if not isinstance(name, str) or not name.strip():
        raise where.at("name").error(f"expected a non-empty string, got {short_value(name)}")
    check_printable_name(name, where.at("name"))
    if name.isdecimal():
        raise where.at("name").error(f"{short_value(name)} is a whole number, which a key path "
                                     f"such as raids.{name}.count reads as a raid's index; "
                                     f"allowed: a name with a letter in it")

    if "count" not in own:
        raise where.error("missing required key 'count'")
    count = check_value(own["count"], number_meta("count", kind="int"), where.at("count"))
    timing = build(RaidTiming, {k: own[k] for k in timing_keys if k in own}, where)
    if timing.interval_s > 0 and timing.rate_per_min > 0:
        raise where.at("rate_per_min").error("give interval_s (fixed schedule) or rate_per_min "
                                             "(Poisson arrivals), not both")
    if timing.rate_per_min > 0 and timing.jitter_s > 0:
        raise where.at("jitter_s").error("jitter_s applies to a fixed schedule (interval_s); "
                                         "Poisson arrivals (rate_per_min) are random already: "
                                         "allowed with rate_per_min: 0 or no jitter_s")
    _check_schedule(timing, count, where)
    launch_spread = check_value(own.get("launch_spread_m", 0.0), number_meta("launch_spread_m"),
                                where.at("launch_spread_m"))
    aim_spread = check_value(own.get("aim_spread_m", 0.0), number_meta("aim_spread_m"),
                             where.at("aim_spread_m"))

    # Aim
    aim = own.get("aim", "random_asset")
    asset_names = [a.name for a in base.assets]
    if isinstance(aim, str):
        if aim == "random_asset":
            if not base.assets:
                raise where.at("aim").error(f"base {base.id} has no assets to aim at")
            aim_mode, aim_asset, (aim_e, aim_n) = "random_asset", None, (0.0, 0.0)
        elif base.asset(aim) is None:
            raise where.at("aim").error(
                f"unknown asset '{aim}'{suggest(aim, asset_names)}; allowed: 'random_asset', "
                f"a point table, or one of {allowed_list(asset_names)}")
        else:
            aim_mode, aim_asset = "asset", aim
            aim_e, aim_n = asset_aim_point(base.asset(aim))
    elif isinstance(aim, dict):
        check_keys(aim, POSITION_KEYS, where.at("aim"))
        aim_e, aim_n = read_position(aim, where.at("aim"), base)
        aim_mode, aim_asset = "point", None
        minx, miny, maxx, maxy = base.perimeter.bounds
        if not (minx - MAP_MARGIN_M <= aim_e <= maxx + MAP_MARGIN_M
                and miny - MAP_MARGIN_M <= aim_n <= maxy + MAP_MARGIN_M):
            raise where.at("aim").error(
                f"aim point ({aim_e:.0f} E, {aim_n:.0f} N) m is outside the map: allowed within "
                f"{MAP_MARGIN_M / 1000:g} km of the base perimeter's bounding box "
                f"(east {minx - MAP_MARGIN_M:.0f}..{maxx + MAP_MARGIN_M:.0f} m, "
                f"north {miny - MAP_MARGIN_M:.0f}..{maxy + MAP_MARGIN_M:.0f} m)")
    else:
        raise where.at("aim").error(f"expected an asset name, 'random_asset' or a point table, "
                                    f"got {short_value(aim)}")

    # Launch site and range check against the threat's min/max range
    if "launch" not in own:
        raise where.error("missing required key 'launch' (e.g. launch = { bearing_deg = 90.0, "
                          "range_km = 8.0 })")
    launch = own["launch"]
    if not isinstance(launch, dict):
        raise where.at("launch").error(f"expected a position table, got {short_value(launch)}")
    check_keys(launch, POSITION_KEYS, where.at("launch"))
    launch_e, launch_n = read_position(launch, where.at("launch"), base)
    # The targets a threat of the raid may be aimed at: with random_asset, every asset's aim
    # point (the reference point, 0 0, is no target); each must be within the threat's range.
    targets = ([(a.name, *asset_aim_point(a)) for a in base.assets] if aim_mode == "random_asset"
               else [(None, aim_e, aim_n)])
    for target, t_e, t_n in targets:
        ground_km = math.hypot(launch_e - t_e, launch_n - t_n) / 1000.0
        if not threat.min_range_km <= ground_km <= threat.max_range_km:
            key = where.at("launch").at("range_km") if "range_km" in launch else where.at("launch")
            what = "the target" if target is None else (f"asset '{target}' (aim = "
                                                         f"'random_asset' may pick any asset)")
            raise key.error(
                f"launch ground range to {what} is {ground_km:.2f} km, outside the range of "
                f"{threat.id} ({threat.min_range_km:g} .. {threat.max_range_km:g} km)")

    # Ingress waypoint (cruise threats only)
    ib, idist = own.get("ingress_bearing_deg"), own.get("ingress_distance_m")
    if (ib is None) != (idist is None):
        raise where.error("'ingress_bearing_deg' and 'ingress_distance_m' go together")
    if ib is not None:
        if not threat.is_cruise:
            raise where.at("ingress_bearing_deg").error(
                f"only drones and cruise missiles fly an ingress route, not a {threat.threat_class}")
        ib = check_value(ib, number_meta("ingress_bearing_deg"), where.at("ingress_bearing_deg"))
        idist = check_value(idist, number_meta("ingress_distance_m", lo=0.0, lo_open=True),
                            where.at("ingress_distance_m"))
        # The route flown: launch -> ingress waypoint -> aim point; it must be within the
        # threat's range as the direct one is.
        route_km = max((math.hypot(w_e - launch_e, w_n - launch_n) + idist) / 1000.0
                       for w_e, w_n in (ingress_waypoint_m(t_e, t_n, ib, idist)
                                        for _, t_e, t_n in targets))
        if route_km > threat.max_range_km:
            raise where.at("ingress_distance_m").error(
                f"the route launch -> ingress waypoint -> target is {route_km:,.1f} km, longer "
                f"than the range of {threat.id} ({threat.max_range_km:g} km); allowed: a "
                f"route of at most {threat.max_range_km:g} km")
    return Raid(name=name, threat=threat, count=count, launch_e=launch_e, launch_n=launch_n,
                launch_spread_m=launch_spread, timing=timing, aim_mode=aim_mode,
                aim_asset=aim_asset, aim_e=aim_e, aim_n=aim_n, aim_spread_m=aim_spread,
                ingress_bearing_deg=ib, ingress_distance_m=idist or 0.0)


def ingress_waypoint_m(aim_e: float, aim_n: float, bearing_deg: float,
                       distance_m: float) -> tuple[float, float]:
    """(east, north) m of a raid's ingress waypoint: distance_m from its aim point on
    bearing_deg (clockwise from north)."""
    b = math.radians(bearing_deg)
    return aim_e + distance_m * math.sin(b), aim_n + distance_m * math.cos(b)


def scaled_count(count: int, raid_scale: float) -> int:
    """count x raid_scale rounded half up (2.5 -> 3, 1.5 -> 2; not Python's half to even), at
    least 1. In decimal, on the scale as written: in binary 45 x 0.7 is 31.499999999999996."""
    exact = decimal.Decimal(count) * decimal.Decimal(repr(raid_scale))
    return max(1, int(exact.quantize(decimal.Decimal(1), rounding=decimal.ROUND_HALF_UP)))


def _check_schedule(timing: RaidTiming, count: int, where: Where) -> None:
    """The last launch (expected, for Poisson arrivals) within MAX_TIME_S of the start."""
    if timing.rate_per_min > 0:
        end = timing.start_s + count * 60.0 / timing.rate_per_min
        how = "start_s + count / rate_per_min (the expected last launch)"
        key = "rate_per_min"
    else:
        end = timing.start_s + (count - 1) * timing.interval_s + timing.jitter_s
        how = "start_s + (count - 1) x interval_s + jitter_s"
        key = "interval_s" if timing.interval_s > 0 else "start_s"
    if end > MAX_TIME_S:
        raise where.at(key).error(
            f"the launches would last until {end:,.6g} s ({how}); allowed: every launch within "
            f"{bound_of(MAX_TIME_S)} s (30 days)")
