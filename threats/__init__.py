"""Threat catalog: rockets, mortars, one-way drones, cruise and ballistic missiles.

`catalog.toml` beside this file holds one table per threat type; `load_catalog()` validates it
into `ThreatType` objects. Every figure carries its public source; keys listed in `assumed`
are modelling assumptions with no public figure behind them.
"""
from __future__ import annotations

import dataclasses
from functools import lru_cache
from pathlib import Path

from salvosim.engine.constants import BALLISTIC_CLASSES, CRUISE_CLASSES, THREAT_CLASSES
from salvosim.engine.schema import Where, build, read_toml, spec

CATALOG_FILE = Path(__file__).with_name("catalog.toml")


@dataclasses.dataclass(frozen=True)
class ThreatType:
    """One threat type. Units are in the key names; ranges are ground ranges."""
    id: str = spec("catalog id", kind="str")
    name: str = spec("descriptive name", kind="str")
    threat_class: str = spec("rocket | mortar | drone | cruise_missile | ballistic_missile",
                             kind="str", choices=THREAT_CLASSES)
    speed_mps: float = spec("average speed along the flight (ballistic: ground range / time of flight), m/s",
                            kind="float", lo=0.0, lo_open=True)
    min_range_km: float = spec("minimum launch ground range, km", kind="float", lo=0.0)
    max_range_km: float = spec("maximum launch ground range, km", kind="float", lo=0.0, lo_open=True)
    reliability: float = spec("probability the threat does not fail in flight", kind="float", lo=0.0, hi=1.0)
    rcs_m2: float = spec("radar cross-section, m^2", kind="float", lo=0.0, lo_open=True)
    lethal_radius_m: float = spec("assets within this distance of the impact are hit, m",
                                  kind="float", lo=0.0)
    cost_usd: float = spec("unit cost, US dollars", kind="float", lo=0.0)
    source: str = spec("public source of the figures", kind="str")
    apogee_ratio: float = spec("ballistic classes: apogee = ratio x ground range", default=0.0,
                               kind="float", lo=0.0, hi=5.0)
    apogee_m: float = spec("ballistic classes: fixed apogee, m (0 = use apogee_ratio)", default=0.0,
                           kind="float", lo=0.0)
    altitude_m: float = spec("cruise classes: cruise altitude above ground, m", default=0.0,
                             kind="float", lo=0.0)
    dive_distance_m: float = spec("cruise classes: ground distance of the terminal dive, m", default=0.0,
                                  kind="float", lo=0.0)
    cep_m: float = spec("circular error probable, m (give this or cep_frac_of_range)", default=0.0,
                        kind="float", lo=0.0)
    cep_frac_of_range: float = spec("CEP as a fraction of the ground range", default=0.0,
                                    kind="float", lo=0.0, hi=1.0)
    warhead_kg: float = spec("warhead mass, kg (information only)", default=0.0, kind="float", lo=0.0)
    decoy: bool = spec("a decoy: draws fire, does no damage, counted separately", default=False,
                       kind="bool")
    assumed: list = spec("keys whose values are modelling assumptions", default=[], kind="str_list")

    @property
    def is_cruise(self) -> bool:
        return self.threat_class in CRUISE_CLASSES

    def validate(self, where: Where) -> None:
        if self.min_range_km > self.max_range_km:
            raise where.at("min_range_km").error(
                f"{self.min_range_km} is larger than max_range_km = {self.max_range_km}")
        if self.threat_class in BALLISTIC_CLASSES and self.apogee_ratio <= 0 and self.apogee_m <= 0:
            raise where.error(f"a {self.threat_class} needs apogee_ratio > 0 or apogee_m > 0")
        if self.is_cruise and self.altitude_m <= 0:
            raise where.at("altitude_m").error(f"a {self.threat_class} needs altitude_m > 0")
        if self.cep_m > 0 and self.cep_frac_of_range > 0:
            raise where.error("give cep_m or cep_frac_of_range, not both")


OVERRIDABLE = tuple(f.name for f in dataclasses.fields(ThreatType)
                    if f.name not in ("id", "name", "threat_class", "source", "assumed"))


@lru_cache(maxsize=None)
def load_catalog(path: str | None = None) -> dict[str, ThreatType]:
    """All threat types by id, validated."""
    file = Path(path) if path else CATALOG_FILE
    data = read_toml(file)
    where = Where(str(file))
    return {tid: build(ThreatType, table, where.at(tid), fixed={"id": tid})
            for tid, table in data.items()}
