"""Defense catalog: sensors and fire units (guns, missiles, lasers).

`sensors.toml` and `fire_units.toml` beside this file hold one table per type; the loaders
validate them into `SensorType` and `FireUnitType`. Every figure carries its public source;
keys listed in `assumed` are modelling assumptions.
"""
from __future__ import annotations

import dataclasses
from functools import lru_cache
from pathlib import Path

from salvosim.engine.constants import THREAT_CLASSES
from salvosim.engine.schema import Where, build, read_toml, spec

SENSORS_FILE = Path(__file__).with_name("sensors.toml")
FIRE_UNITS_FILE = Path(__file__).with_name("fire_units.toml")


@dataclasses.dataclass(frozen=True)
class SensorType:
    """A radar or passive sensor (MODEL.md §4)."""
    id: str = spec("catalog id", kind="str")
    name: str = spec("descriptive name", kind="str")
    classes: list = spec("threat classes it can track", kind="str_list", choices=THREAT_CLASSES)
    range_m: float = spec("detection range against a target of rcs_ref_m2, m", kind="float",
                          lo=0.0, lo_open=True)
    height_m: float = spec("antenna height above ground, m", kind="float", lo=0.0)
    track_delay_s: float = spec("time from first detection to a firm track, s", kind="float", lo=0.0)
    source: str = spec("public source of the figures", kind="str")
    rcs_ref_m2: float = spec("reference RCS of range_m, m^2", default=1.0, kind="float", lo=0.0,
                             lo_open=True)
    rcs_scaling: bool = spec("scale range with (RCS / rcs_ref)^(1/4); false for passive sensors",
                             default=True, kind="bool")
    sector_width_deg: float = spec("width of the covered sector, degrees (360 = all round)",
                                   default=360.0, kind="float", lo=0.0, lo_open=True, hi=360.0)
    assumed: list = spec("keys whose values are modelling assumptions", default=[], kind="str_list")


@dataclasses.dataclass(frozen=True)
class FireUnitType:
    """A fire unit (MODEL.md §5): gun, missile launcher or laser."""
    id: str = spec("catalog id", kind="str")
    name: str = spec("descriptive name", kind="str")
    kind: str = spec("missile | gun | laser", kind="str", choices=("missile", "gun", "laser"))
    pk: dict = spec("single-shot kill probability by threat class (gun: per burst, laser: per "
                    "dwell); classes absent are not engaged", kind="class_map",
                    choices=THREAT_CLASSES, lo=0.0, hi=1.0)
    min_range_m: float = spec("envelope: minimum ground range, m", kind="float", lo=0.0)
    max_range_m: float = spec("envelope: maximum ground range, m", kind="float", lo=0.0, lo_open=True)
    min_altitude_m: float = spec("envelope: minimum target altitude, m", kind="float", lo=0.0)
    max_altitude_m: float = spec("envelope: maximum target altitude, m", kind="float", lo=0.0,
                                 lo_open=True)
    channels: int = spec("simultaneous engagements", kind="int", lo=1)
    reaction_s: float = spec("a threat must be known this long before the first shot, s",
                             kind="float", lo=0.0)
    cost_per_shot_usd: float = spec("cost of one shot (gun: one burst), US dollars", kind="float", lo=0.0)
    source: str = spec("public source of the figures", kind="str")
    sector_width_deg: float = spec("envelope sector width, degrees (360 = all round)", default=360.0,
                                   kind="float", lo=0.0, lo_open=True, hi=360.0)
    magazine: int = spec("ready rounds (guns) or interceptors (missiles); lasers: unlimited",
                         default=0, kind="int", lo=0)
    reserve: int = spec("rounds or interceptors in reserve, same unit as magazine", default=0,
                        kind="int", lo=0)
    reload_s: float = spec("time to reload the magazine from the reserve, s", default=0.0,
                           kind="float", lo=0.0)
    rounds_per_shot: int = spec("guns: rounds in one burst; missiles and lasers: 1", default=1,
                                kind="int", lo=1)
    burst_s: float = spec("guns: duration of one burst, s", default=0.0, kind="float", lo=0.0)
    shots_per_engagement: int = spec("shots fired together in one engagement", default=1,
                                     kind="int", lo=1)
    shots_per_engagement_by_class: dict = spec(
        "shots per engagement by threat class, overriding shots_per_engagement",
        default={}, kind="class_int_map", choices=THREAT_CLASSES, lo=1)
    speed_mps: float = spec("average interceptor or projectile speed, m/s (lasers: unused)",
                            default=0.0, kind="float", lo=0.0)
    launch_delay_s: float = spec("from the fire decision to the interceptor leaving, s",
                                 default=0.0, kind="float", lo=0.0)
    channel_hold: str = spec("missiles: 'intercept' (guided to intercept) or 'launch' (fire and "
                             "forget, channel busy cycle_s per shot)", default="intercept",
                             kind="str", choices=("intercept", "launch"))
    cycle_s: float = spec("'launch' hold: channel busy time per shot, s", default=0.0,
                          kind="float", lo=0.0)
    retarget_s: float = spec("channel busy after an engagement before the next, s", default=0.0,
                             kind="float", lo=0.0)
    kill_assessment_s: float = spec("after an intercept, time before the threat may be engaged "
                                    "again, s", default=0.0, kind="float", lo=0.0)
    max_engagements: int = spec("engagements of one threat by this unit (shoot-look-shoot)",
                                default=2, kind="int", lo=1)
    defended_area_only: bool = spec("engage only threats whose predicted impact is in the "
                                    "defended area", default=False, kind="bool")
    dwell_s: float = spec("lasers: fluence to kill, as seconds of dwell at dwell_ref_range_m (the "
                          "dwell ends when the integral of (dwell_ref_range_m / range)^2 reaches "
                          "it)",
                          default=0.0, kind="float", lo=0.0)
    dwell_ref_range_m: float = spec("lasers: reference range of dwell_s, m", default=0.0,
                                    kind="float", lo=0.0)
    engage_classes: list = spec(
        "fire doctrine: the threat classes the unit is allowed to engage (weapon control); "
        "empty: every class in pk (a pk of 0 included)", default=[], kind="str_list",
        choices=THREAT_CLASSES)
    self_defense_m: float = spec(
        "fire doctrine: a threat of a class in pk but outside engage_classes is still "
        "engaged when its aim point is within this ground distance of the unit, m (0: never)",
        default=0.0, kind="float", lo=0.0, hi=100_000.0)
    hold_for: dict = spec(
        "fire doctrine: {class = N} keeps the last N interceptors (magazine + reserve, in shots) "
        "for threats of that class", default={}, kind="class_int_map", choices=THREAT_CLASSES,
        lo=0)
    assign_queue: int = spec(
        "central assignment: threats assigned to this unit and not yet engaged, at most "
        "(0: twice the channels)", default=0, kind="int", lo=0, hi=10_000)
    assumed: list = spec("keys whose values are modelling assumptions", default=[], kind="str_list")

    def allowed_classes(self) -> list:
        """engage_classes, or every class in pk when it is empty (a pk of 0 included: the
        unit does not know its Pk; leave a class out of pk, or use engage_classes, to keep a
        unit off it)."""
        return list(self.engage_classes) or [c for c in THREAT_CLASSES if c in self.pk]

    def shots_against(self, threat_class: str) -> int:
        return self.shots_per_engagement_by_class.get(threat_class, self.shots_per_engagement)

    def validate(self, where: Where) -> None:
        if self.min_range_m >= self.max_range_m:
            raise where.at("min_range_m").error(
                f"{self.min_range_m} must be below max_range_m = {self.max_range_m}")
        if self.min_altitude_m >= self.max_altitude_m:
            raise where.at("min_altitude_m").error(
                f"{self.min_altitude_m} must be below max_altitude_m = {self.max_altitude_m}")
        if not self.pk:
            raise where.at("pk").error("a fire unit must engage at least one threat class")
        for key in ("engage_classes", "hold_for"):
            for c in getattr(self, key):
                if c not in self.pk:
                    raise where.at(key).error(
                        f"{c!r} has no pk; allowed: the classes of pk ({', '.join(self.pk)})")
        if self.kind == "laser":
            if self.dwell_s <= 0 or self.dwell_ref_range_m <= 0:
                raise where.at("dwell_s").error("a laser needs dwell_s > 0 and dwell_ref_range_m > 0")
            return
        if self.speed_mps <= 0:
            raise where.at("speed_mps").error(f"a {self.kind} needs speed_mps > 0")
        if self.magazine < self.rounds_per_shot:
            raise where.at("magazine").error(
                f"{self.magazine} holds less than one shot (rounds_per_shot = {self.rounds_per_shot})")
        if self.reserve > 0 and self.reload_s <= 0:
            raise where.at("reload_s").error("must be > 0 when there is a reserve")
        if self.kind == "gun" and self.burst_s <= 0:
            raise where.at("burst_s").error("a gun needs burst_s > 0")
        if self.kind == "missile" and self.channel_hold == "launch" and self.cycle_s <= 0:
            raise where.at("cycle_s").error("channel_hold = 'launch' needs cycle_s > 0")


SENSOR_OVERRIDABLE = tuple(f.name for f in dataclasses.fields(SensorType)
                           if f.name not in ("id", "name", "source", "assumed"))
UNIT_OVERRIDABLE = tuple(f.name for f in dataclasses.fields(FireUnitType)
                         if f.name not in ("id", "name", "kind", "source", "assumed"))


@lru_cache(maxsize=None)
def load_sensors(path: str | None = None) -> dict[str, SensorType]:
    file = Path(path) if path else SENSORS_FILE
    where = Where(str(file))
    return {sid: build(SensorType, t, where.at(sid), fixed={"id": sid})
            for sid, t in read_toml(file).items()}


@lru_cache(maxsize=None)
def load_fire_units(path: str | None = None) -> dict[str, FireUnitType]:
    file = Path(path) if path else FIRE_UNITS_FILE
    where = Where(str(file))
    return {uid: build(FireUnitType, t, where.at(uid), fixed={"id": uid})
            for uid, t in read_toml(file).items()}
