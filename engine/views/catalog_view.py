"""`salvosim catalog`: the catalogs as readable tables (with sources) or as JSON.

Kinds: threats (threats/catalog.toml), sensors (defenses/sensors.toml), defenses (fire units,
defenses/fire_units.toml) and bases (bases/*.toml). In the tables a value followed by `*` is a
modelling assumption (its key is in the entry's `assumed` list); every entry shows its source.
JSON gives every field of every entry, keyed by id, with the key names of the TOML files.
"""
from __future__ import annotations

import dataclasses
import textwrap

from salvosim import bases as bases_pkg
from salvosim import defenses, threats
from salvosim.engine.schema import key_of

KINDS = ("threats", "sensors", "defenses", "bases")
LEGEND = "* assumption (no public figure)"
# Short column labels of the threat classes, in THREAT_CLASSES order.
CLASS_ABBREV = {"rocket": "R", "mortar": "M", "drone": "D", "cruise_missile": "CM",
                "ballistic_missile": "BM"}
CLASS_LEGEND = "classes: R rocket, M mortar, D drone, CM cruise_missile, BM ballistic_missile"
SOURCE_WIDTH = 100


# ----------------------------------------------------------------------------------------
# Formatting helpers
def _num(x: float, digits: int = 0) -> str:
    """A number with thousands separators; `digits` decimals."""
    if digits == 0:
        return f"{x:,.0f}"
    return f"{x:,.{digits}f}"


def _short(x: float) -> str:
    """A short number without trailing zeros (0.05, 1.5, 40)."""
    return f"{x:g}"


def _mark(text: str, entry, *keys: str) -> str:
    """Append '*' when any of `keys` is an assumption of `entry`."""
    return text + ("*" if any(k in entry.assumed for k in keys) else "")


def _table(headers: list[str], rows: list[list[str]], right: set[int]) -> list[str]:
    """Aligned plain-text table; columns in `right` are right-aligned (numbers)."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]

    def line(cells):
        out = [c.rjust(w) if i in right else c.ljust(w)
               for i, (c, w) in enumerate(zip(cells, widths))]
        return "  ".join(out).rstrip()

    return [line(headers), line(["-" * w for w in widths])] + [line(r) for r in rows]


def _sources(entries: list[tuple[str, str]]) -> list[str]:
    """'id  source' lines, wrapped with a hanging indent."""
    width = max(len(i) for i, _ in entries)
    out = []
    for entry_id, source in entries:
        prefix = f"  {entry_id.ljust(width)}  "
        out.extend(textwrap.wrap(source or "(no source)", width=SOURCE_WIDTH,
                                 initial_indent=prefix, subsequent_indent=" " * len(prefix),
                                 break_on_hyphens=False, break_long_words=False))
    return out


def _sector(width_deg: float) -> str:
    return "360°" if width_deg >= 360.0 else f"{_short(width_deg)}°"


def _pk(pk_by_class: dict) -> str:
    return " ".join(f"{CLASS_ABBREV[c]} {p:.2f}".replace(" 0.", " .") for c, p in pk_by_class.items())


def _classes(classes: list) -> str:
    return ",".join(CLASS_ABBREV[c] for c in classes)


# ----------------------------------------------------------------------------------------
# Text
def _threats_text() -> str:
    catalog = threats.load_catalog()
    headers = ["id", "class", "speed m/s", "range km", "CEP", "reliab.", "RCS m²",
               "lethal m", "cost USD"]
    rows = []
    for t in catalog.values():
        if t.cep_m > 0:
            cep = _mark(f"{_short(t.cep_m)} m", t, "cep_m")
        elif t.cep_frac_of_range > 0:
            cep = _mark(f"{_short(100 * t.cep_frac_of_range)} % R", t, "cep_frac_of_range")
        else:
            cep = "0"
        cls = t.threat_class + (" (decoy)" if t.decoy else "")
        rows.append([
            t.id, cls, _mark(_short(t.speed_mps), t, "speed_mps"),
            _mark(_short(t.min_range_km), t, "min_range_km") + "–"
            + _mark(_short(t.max_range_km), t, "max_range_km"),
            cep, _mark(f"{t.reliability:.2f}", t, "reliability"),
            _mark(_short(t.rcs_m2), t, "rcs_m2"), _mark(_short(t.lethal_radius_m), t, "lethal_radius_m"),
            _mark(_num(t.cost_usd), t, "cost_usd")])
    lines = [f"Threat types ({catalog_file('threats')})", ""]
    lines += _table(headers, rows, right={2, 4, 5, 6, 7, 8})
    lines += ["", LEGEND, "range: minimum–maximum launch ground range; CEP in m or % of range (R)",
              "", "Sources"]
    lines += _sources([(t.id, t.source) for t in catalog.values()])
    return "\n".join(lines)


def _sensors_text() -> str:
    catalog = defenses.load_sensors()
    headers = ["id", "tracks", "range km", "at RCS m²", "sector", "height m", "track s"]
    rows = []
    for s in catalog.values():
        rng = _mark(_short(s.range_m / 1000.0), s, "range_m")
        ref = _mark(_short(s.rcs_ref_m2), s, "rcs_ref_m2") if s.rcs_scaling else "passive"
        rows.append([s.id, _classes(s.classes), rng, ref,
                     _mark(_sector(s.sector_width_deg), s, "sector_width_deg"),
                     _mark(_short(s.height_m), s, "height_m"),
                     _mark(_short(s.track_delay_s), s, "track_delay_s")])
    lines = [f"Sensors ({catalog_file('sensors')})", ""]
    lines += _table(headers, rows, right={2, 3, 5, 6})
    lines += ["", LEGEND, CLASS_LEGEND,
              "range: detection range against a target of the reference RCS; radars scale it "
              "with (RCS / ref)^(1/4), passive sensors do not", "", "Sources"]
    lines += _sources([(s.id, s.source) for s in catalog.values()])
    return "\n".join(lines)


def _fire_units_text() -> str:
    catalog = defenses.load_fire_units()
    headers = ["id", "kind", "Pk per shot", "range km", "alt. km", "sector", "ch.",
               "mag. / reserve / reload s", "react. s", "speed m/s", "USD/shot"]
    rows = []
    for u in catalog.values():
        if u.kind == "laser":
            ammo = "unlimited"
            speed = "light"
        else:
            unit = " rds" if u.kind == "gun" else ""
            ammo = (_mark(f"{u.magazine:,}{unit}", u, "magazine") + " / "
                    + _mark(f"{u.reserve:,}", u, "reserve") + " / "
                    + _mark(_num(u.reload_s), u, "reload_s"))
            speed = _mark(_short(u.speed_mps), u, "speed_mps")
        shots = "".join(f", {n} vs {CLASS_ABBREV[c]}" for c, n in
                        u.shots_per_engagement_by_class.items())
        rows.append([
            u.id, u.kind, _mark(_pk(u.pk), u, "pk") + shots,
            _mark(_short(u.min_range_m / 1000.0), u, "min_range_m") + "–"
            + _mark(_short(u.max_range_m / 1000.0), u, "max_range_m"),
            _mark(_short(u.min_altitude_m / 1000.0), u, "min_altitude_m") + "–"
            + _mark(_short(u.max_altitude_m / 1000.0), u, "max_altitude_m"),
            _mark(_sector(u.sector_width_deg), u, "sector_width_deg"),
            _mark(str(u.channels), u, "channels"), ammo,
            _mark(_short(u.reaction_s), u, "reaction_s"), speed,
            _mark(_num(u.cost_per_shot_usd), u, "cost_per_shot_usd")])
    lines = [f"Fire units ({catalog_file('defenses')})", ""]
    lines += _table(headers, rows, right={6, 8, 9, 10})
    lines += ["", LEGEND, CLASS_LEGEND,
              "Pk: per shot (guns: per burst; lasers: per dwell); 'n vs BM': shots per engagement;"
              " range: ground range; alt.: target altitude band", "", "Sources"]
    lines += _sources([(u.id, u.source) for u in catalog.values()])
    return "\n".join(lines)


def _bases_text() -> str:
    headers = ["id", "name", "lat / lon", "assets", "layouts (sensors, fire units)"]
    rows, notes = [], []
    for base_id in bases_pkg.base_ids():
        b = bases_pkg.load_base(base_id)
        layouts = "; ".join(f"{name} ({len(lay.sensors)} s, {len(lay.units)} u)"
                            for name, lay in b.layouts.items())
        rows.append([b.id, b.name, f"{b.lat_deg:.3f} N {b.lon_deg:.3f} E", str(len(b.assets)),
                     layouts])
        notes.append((b.id, f"{b.note} Source: {b.source}"))
    lines = ["Bases (bases/*.toml)", ""]
    lines += _table(headers, rows, right={3})
    lines += ["", "layouts: name (number of sensors s, number of fire units u)", "",
              "Notes and sources"]
    lines += _sources(notes)
    return "\n".join(lines)


def catalog_file(kind: str) -> str:
    return {"threats": "threats/catalog.toml", "sensors": "defenses/sensors.toml",
            "defenses": "defenses/fire_units.toml", "bases": "bases/*.toml"}[kind]


def catalog_text(kind: str) -> str:
    """A readable table of one catalog kind: threats | sensors | defenses | bases."""
    return {"threats": _threats_text, "sensors": _sensors_text, "defenses": _fire_units_text,
            "bases": _bases_text}[_check_kind(kind)]()


# ----------------------------------------------------------------------------------------
# JSON
def _entry_json(entry) -> dict:
    """Every field of a catalog dataclass, under the key names of the TOML files."""
    return {key_of(f): _plain(getattr(entry, f.name)) for f in dataclasses.fields(entry)}


def _plain(value):
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _polygon(poly) -> list:
    return [[float(x), float(y)] for x, y in list(poly.exterior.coords)[:-1]]


def _base_json(b) -> dict:
    return {
        "id": b.id, "name": b.name, "lat_deg": b.lat_deg, "lon_deg": b.lon_deg,
        "elevation_m": b.elevation_m, "note": b.note, "source": b.source,
        "perimeter_m": _polygon(b.perimeter),
        "assets": [{"name": a.name, "kind": a.kind, "value": a.value,
                    "polygon_m": _polygon(a.polygon)} for a in b.assets],
        "layouts": {name: {"description": lay.description,
                           "sensors": _plain(list(lay.sensors)),
                           "units": _plain(list(lay.units))}
                    for name, lay in b.layouts.items()},
    }


def catalog_json(kind: str) -> dict:
    """Every field of every entry of one catalog kind, keyed by id (JSON-serialisable)."""
    kind = _check_kind(kind)
    if kind == "bases":
        return {i: _base_json(bases_pkg.load_base(i)) for i in bases_pkg.base_ids()}
    catalog = {"threats": threats.load_catalog, "sensors": defenses.load_sensors,
               "defenses": defenses.load_fire_units}[kind]()
    return {entry_id: _entry_json(entry) for entry_id, entry in catalog.items()}


def _check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown catalog kind {kind!r}; allowed: {', '.join(KINDS)}")
    return kind
