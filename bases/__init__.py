"""Bases: reference point, perimeter, named assets and named defense layouts.

One TOML file per base beside this module (`al_asad.toml`, ...). Geometry is schematic, drawn
from public descriptions, and says so in each file. Polygons are lists of [east_m, north_m]
pairs about the base's reference point; shapely checks that each is valid and non-empty.
Layout placements are kept as plain tables and read by engine.scenario together with the
scenario's own additions and overrides.
"""
from __future__ import annotations

import dataclasses
from functools import lru_cache
from pathlib import Path

import shapely
from shapely.geometry import Polygon

from engine.schema import Where, build, check_keys, read_toml, spec

BASES_DIR = Path(__file__).parent
ASSET_KINDS = ("runway", "apron", "aircraft", "hq", "fuel", "ammo", "living", "radar", "other")


def read_polygon(value, where: Where) -> Polygon:
    """A list of [east_m, north_m] pairs -> a valid, non-empty shapely Polygon."""
    if not isinstance(value, list) or len(value) < 3:
        raise where.error("expected a polygon: an array of at least 3 [east_m, north_m] pairs")
    points = []
    for i, p in enumerate(value):
        if (not isinstance(p, list) or len(p) != 2
                or not all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in p)):
            raise where.at(i).error(f"expected an [east_m, north_m] pair of numbers, got {p!r}")
        points.append((float(p[0]), float(p[1])))
    poly = Polygon(points)
    if not poly.is_valid:
        raise where.error(f"polygon is invalid: {shapely.is_valid_reason(poly)}")
    if poly.is_empty or poly.area <= 0.0:
        raise where.error("polygon is empty (zero area)")
    return poly


@dataclasses.dataclass(frozen=True)
class Asset:
    name: str = spec("unique asset name", kind="str")
    kind: str = spec("runway | apron | aircraft | hq | fuel | ammo | living | radar | other",
                     kind="str", choices=ASSET_KINDS)
    value: float = spec("relative value weight", kind="float", lo=0.0, lo_open=True)
    polygon: Polygon = dataclasses.field(default=None, compare=False)


@dataclasses.dataclass(frozen=True)
class Layout:
    name: str
    description: str
    sensors: tuple   # raw placement tables
    units: tuple
    where: Where


@dataclasses.dataclass(frozen=True)
class Base:
    id: str
    name: str
    lat_deg: float
    lon_deg: float
    elevation_m: float
    note: str
    source: str
    perimeter: Polygon
    assets: tuple
    layouts: dict
    file: str

    def asset(self, name: str) -> Asset | None:
        return next((a for a in self.assets if a.name == name), None)


BASE_KEYS = ("id", "name", "lat_deg", "lon_deg", "elevation_m", "note", "source", "perimeter_m",
             "assets", "layouts")


def _read_base(file: Path) -> Base:
    data = read_toml(file)
    where = Where(str(file))
    check_keys(data, BASE_KEYS, where)
    for key in ("name", "lat_deg", "lon_deg", "perimeter_m", "source", "note"):
        if key not in data:
            raise where.error(f"missing required key '{key}'")
    lat, lon = data["lat_deg"], data["lon_deg"]
    if not isinstance(lat, (int, float)) or not -90 <= lat <= 90:
        raise where.at("lat_deg").error(f"{lat!r}: expected a latitude in [-90, 90]")
    if not isinstance(lon, (int, float)) or not -180 <= lon <= 180:
        raise where.at("lon_deg").error(f"{lon!r}: expected a longitude in [-180, 180]")
    perimeter = read_polygon(data["perimeter_m"], where.at("perimeter_m"))
    assets = []
    for i, table in enumerate(data.get("assets", [])):
        w = where.at("assets").at(i)
        table = dict(table)
        poly = read_polygon(table.pop("polygon_m", None), w.at("polygon_m"))
        asset = build(Asset, table, w)
        if any(a.name == asset.name for a in assets):
            raise w.at("name").error(f"duplicate asset name '{asset.name}'")
        assets.append(dataclasses.replace(asset, polygon=poly))
    layouts = {}
    for name, table in data.get("layouts", {}).items():
        w = where.at("layouts").at(name)
        check_keys(table, ("description", "sensors", "units"), w)
        layouts[name] = Layout(name, table.get("description", ""), tuple(table.get("sensors", [])),
                               tuple(table.get("units", [])), w)
    return Base(id=data.get("id", file.stem), name=data["name"], lat_deg=float(lat),
                lon_deg=float(lon), elevation_m=float(data.get("elevation_m", 0.0)),
                note=data["note"], source=data["source"], perimeter=perimeter,
                assets=tuple(assets), layouts=layouts, file=str(file))


@lru_cache(maxsize=None)
def load_base(base_id: str) -> Base:
    return _read_base(BASES_DIR / f"{base_id}.toml")


def base_ids() -> list[str]:
    return sorted(p.stem for p in BASES_DIR.glob("*.toml"))
