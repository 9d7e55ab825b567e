"""Bases: reference point, perimeter, named assets and named defense layouts.

One TOML file per base beside this module (`al_asad.toml`, ...). Geometry is schematic, drawn
from public descriptions, and says so in each file. Polygons are lists of [east_m, north_m]
pairs about the base's reference point; shapely checks that each is valid and non-empty.
Layout placements are kept as plain tables and read by engine.scenario together with the
scenario's own additions and overrides.
"""
from __future__ import annotations

import dataclasses
import math
import warnings
from functools import lru_cache
from pathlib import Path

import shapely
from shapely.geometry import Polygon

from salvosim.engine.schema import (
    MAX_DISTANCE_M,
    Where,
    bounded,
    build,
    check_keys,
    check_printable_name,
    check_value,
    read_toml,
    short_value,
    spec,
)

BASES_DIR = Path(__file__).parent
ASSET_KINDS = ("runway", "apron", "aircraft", "hq", "fuel", "ammo", "living", "radar", "other")
MAX_VERTICES = 10_000
MAX_ASSETS = 1_000
MAX_LAYOUT_ENTRIES = 100


def read_polygon(value, where: Where) -> Polygon:
    """A list of [east_m, north_m] pairs -> a valid, non-empty shapely Polygon.

    Coordinates must be finite and within 5,000 km of the reference point."""
    if not isinstance(value, list) or len(value) < 3:
        raise where.error("expected a polygon: an array of at least 3 [east_m, north_m] pairs")
    if len(value) > MAX_VERTICES:
        raise where.error(f"{len(value)} vertices; allowed: at most {MAX_VERTICES:,}")
    points = []
    for i, p in enumerate(value):
        if (not isinstance(p, list) or len(p) != 2
                or not all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in p)):
            raise where.at(i).error(f"expected an [east_m, north_m] pair of numbers, got {short_value(p)}")
        try:
            e, n = float(p[0]), float(p[1])
        except OverflowError:
            e = n = math.inf
        if not (math.isfinite(e) and math.isfinite(n)
                and abs(e) <= MAX_DISTANCE_M and abs(n) <= MAX_DISTANCE_M):
            raise where.at(i).error(
                f"{short_value(p)}: coordinates must be finite numbers within 5,000 km of the "
                f"reference point; allowed: -5,000,000 .. 5,000,000 m")
        points.append((e, n))
    with warnings.catch_warnings():       # shapely's RuntimeWarnings: the checks below say it
        warnings.simplefilter("ignore")
        try:
            poly = Polygon(points)
            valid = poly.is_valid
            reason = "" if valid else shapely.is_valid_reason(poly)
            area = 0.0 if poly.is_empty else poly.area
        except shapely.errors.ShapelyError as exc:
            raise where.error(f"polygon is invalid: {exc}") from None
    if not valid:
        raise where.error(f"polygon is invalid: {reason}")
    if area <= 0.0:
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
# An inline base ([scenario.base] in a scenario file) has the keys of a base file, and may give
# its own defended area; only the reference point and the perimeter are required.
INLINE_BASE_KEYS = BASE_KEYS + ("defended_area_m",)
INLINE_REQUIRED = ("lat_deg", "lon_deg", "perimeter_m")
FILE_REQUIRED = ("name", "lat_deg", "lon_deg", "perimeter_m", "source", "note")


def _number(data: dict, key: str, where: Where, default=None) -> float:
    meta = {"kind": "float", "lo": None, "hi": None, "lo_open": False, "choices": None}
    if key not in data:
        return default
    return check_value(data[key], bounded(meta, key), where.at(key))


def _text(data: dict, key: str, where: Where, default: str) -> str:
    value = data.get(key, default)
    if not isinstance(value, str):
        raise where.at(key).error(f"expected a string, got {short_value(value)}")
    return value


def base_from_dict(data, where: Where, default_id: str, file: str,
                   inline: bool = False) -> Base:
    """A base from the tables of a base file (or an inline [scenario.base] table)."""
    if not isinstance(data, dict):
        raise where.error(f"expected a base table, got {short_value(data)}")
    check_keys(data, INLINE_BASE_KEYS if inline else BASE_KEYS, where)
    for key in (INLINE_REQUIRED if inline else FILE_REQUIRED):
        if key not in data:
            raise where.error(f"missing required key '{key}'")
    lat = _number(data, "lat_deg", where)
    lon = _number(data, "lon_deg", where)
    elevation = _number(data, "elevation_m", where, 0.0)
    perimeter = read_polygon(data["perimeter_m"], where.at("perimeter_m"))
    assets = []
    tables = data.get("assets", [])
    if not isinstance(tables, list):
        raise where.at("assets").error("expected an array of [[assets]] tables")
    if len(tables) > MAX_ASSETS:
        raise where.at("assets").error(f"{len(tables)} assets; allowed: at most {MAX_ASSETS}")
    for i, table in enumerate(tables):
        w = where.at("assets").at(i)
        if not isinstance(table, dict):
            raise w.error(f"expected an asset table, got {short_value(table)}")
        table = dict(table)
        if "polygon_m" not in table:
            raise w.error("missing required key 'polygon_m' (the asset's outline)")
        poly = read_polygon(table.pop("polygon_m"), w.at("polygon_m"))
        asset = build(Asset, table, w)
        if any(a.name == asset.name for a in assets):
            raise w.at("name").error(f"duplicate asset name {asset.name!r}")
        check_printable_name(asset.name, w.at("name"))
        if not asset.name.strip() or asset.name == "random_asset":
            raise w.at("name").error(
                f"{asset.name!r} cannot name an asset; allowed: a non-empty name other than "
                f"'random_asset' (a raid's aim = 'random_asset' means a random asset)")
        assets.append(dataclasses.replace(asset, polygon=poly))
    layouts = {}
    layout_tables = data.get("layouts", {})
    if not isinstance(layout_tables, dict):
        raise where.at("layouts").error("expected a table of named layouts ([layouts.<name>])")
    for name, table in layout_tables.items():
        w = where.at("layouts").at(name)
        if not isinstance(table, dict):
            raise w.error(f"expected a layout table, got {short_value(table)}")
        check_keys(table, ("description", "sensors", "units"), w)
        for section in ("sensors", "units"):
            entries = table.get(section, [])
            if not isinstance(entries, list):
                raise w.at(section).error("expected an array of placement tables")
            if len(entries) > MAX_LAYOUT_ENTRIES:
                raise w.at(section).error(f"{len(entries)} entries; allowed: at most "
                                          f"{MAX_LAYOUT_ENTRIES}")
        layouts[name] = Layout(name, _text(table, "description", w, ""),
                               tuple(table.get("sensors", [])), tuple(table.get("units", [])), w)
    base = Base(id=_text(data, "id", where, default_id),
                name=_text(data, "name", where, "inline base" if inline else default_id),
                lat_deg=float(lat), lon_deg=float(lon), elevation_m=float(elevation),
                note=_text(data, "note", where, "inline base geometry of the scenario file"),
                source=_text(data, "source", where, "scenario file"), perimeter=perimeter,
                assets=tuple(assets), layouts=layouts, file=file)
    return base


def _read_base(file: Path) -> Base:
    return base_from_dict(read_toml(file), Where(str(file)), file.stem, str(file))


@lru_cache(maxsize=None)
def load_base(base_id: str) -> Base:
    return _read_base(BASES_DIR / f"{base_id}.toml")


def base_ids() -> list[str]:
    return sorted(p.stem for p in BASES_DIR.glob("*.toml"))
