"""A validated Scenario -> one struct of numpy arrays, the only input of both engines.

`CompiledScenario` is a NamedTuple of arrays and scalars (Numba passes it to njit functions as
a tuple). Prefixes: th_ threat instances (J, in raid order then launch order), rd_ raids,
se_ sensors, un_ units, as_ assets (polygons as flat vertex arrays), da_ defended area,
c2_ command and control. SI units inside: metres, seconds, radians where named _rad.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from salvosim.bases.areas import polygon_reach_circle
from salvosim.defenses.sensors import detection_range_m
from salvosim.engine.constants import (
    AIM_POINT,
    AIM_RANDOM_ASSET,
    ARRIVAL_FIXED,
    ARRIVAL_POISSON,
    CHANNEL_HOLDS,
    CLASS_INDEX,
    CRUISE_CLASSES,
    N_CLASSES,
    PRIORITIES,
    UNIT_KINDS,
)
from salvosim.engine.events import check_key_bounds
from salvosim.engine.scenario import Scenario, asset_aim_point
from salvosim.engine.schema import InputError


class CompiledScenario(NamedTuple):
    # threat instances [J]
    th_raid: np.ndarray
    th_group: np.ndarray          # row of the by-type tables (type, or type + decoy)
    th_class: np.ndarray
    th_cruise: np.ndarray
    th_site_e: np.ndarray
    th_site_n: np.ndarray
    th_launch_spread_m: np.ndarray
    th_aim_mode: np.ndarray       # AIM_POINT, AIM_RANDOM_ASSET or an asset index
    th_aim_e: np.ndarray
    th_aim_n: np.ndarray
    th_aim_spread_m: np.ndarray
    th_speed_mps: np.ndarray
    th_apogee_ratio: np.ndarray
    th_apogee_m: np.ndarray
    th_altitude_m: np.ndarray
    th_dive_m: np.ndarray
    th_has_ingress: np.ndarray
    th_ingress_bearing_rad: np.ndarray
    th_ingress_m: np.ndarray
    th_cep_m: np.ndarray
    th_cep_frac: np.ndarray
    th_reliability: np.ndarray
    th_rcs_m2: np.ndarray
    th_lethal_m: np.ndarray
    th_cost_usd: np.ndarray
    th_decoy: np.ndarray
    # raids [K]
    rd_first: np.ndarray
    rd_count: np.ndarray
    rd_arrival: np.ndarray
    rd_start_s: np.ndarray
    rd_interval_s: np.ndarray
    rd_rate_per_s: np.ndarray
    rd_jitter_s: np.ndarray
    # sensors [S]
    se_e: np.ndarray
    se_n: np.ndarray
    se_height_m: np.ndarray
    se_tracks: np.ndarray         # [S, N_CLASSES] bool
    se_range_m: np.ndarray
    se_rcs_ref_m2: np.ndarray
    se_rcs_scaling: np.ndarray
    se_facing_deg: np.ndarray
    se_width_deg: np.ndarray
    se_track_delay_s: np.ndarray
    se_det_range_m: np.ndarray    # [S, J] detection range of sensor s for threat j's RCS
    # fire units [U]
    un_e: np.ndarray
    un_n: np.ndarray
    un_facing_deg: np.ndarray
    un_width_deg: np.ndarray
    un_rmin_m: np.ndarray
    un_rmax_m: np.ndarray
    un_zmin_m: np.ndarray
    un_zmax_m: np.ndarray
    un_engages: np.ndarray        # [U, N_CLASSES] bool
    un_pk: np.ndarray             # [U, N_CLASSES]
    un_shots: np.ndarray          # [U, N_CLASSES] shots per engagement
    un_channels: np.ndarray
    un_magazine: np.ndarray       # rounds; 0 with un_unlimited for lasers
    un_reserve: np.ndarray
    un_unlimited: np.ndarray
    un_reload_s: np.ndarray
    un_rounds_per_shot: np.ndarray
    un_kind: np.ndarray
    un_hold: np.ndarray
    un_cycle_s: np.ndarray
    un_burst_s: np.ndarray
    un_dwell_s: np.ndarray
    un_dwell_ref_m: np.ndarray
    un_reaction_s: np.ndarray
    un_speed_mps: np.ndarray
    un_launch_delay_s: np.ndarray
    un_retarget_s: np.ndarray
    un_assessment_s: np.ndarray
    un_max_engagements: np.ndarray
    un_defended_only: np.ndarray
    un_cost_usd: np.ndarray
    un_sensor: np.ndarray         # own sensor index or -1
    un_allowed: np.ndarray        # [U, N_CLASSES] bool: fire doctrine, engage_classes (MODEL §6)
    un_self_defense_m: np.ndarray  # [U] self-defence radius about the unit for other classes
    un_hold_need: np.ndarray      # [U, N_CLASSES] shots hold_for keeps back from that class
    un_assign_queue: np.ndarray   # [U] central assignment capacity
    un_cost_per_kill: np.ndarray  # [U, N_CLASSES] cost per expected kill (inf: cannot engage)
    # assets [A] and defended area
    as_vert_e: np.ndarray
    as_vert_n: np.ndarray
    as_start: np.ndarray          # [A + 1]
    as_value: np.ndarray
    as_aim_e: np.ndarray
    as_aim_n: np.ndarray
    as_reach_e: np.ndarray        # [A] a circle holding the polygon: centre (m) and radius (m)
    as_reach_n: np.ndarray
    as_reach_m: np.ndarray
    da_e: np.ndarray
    da_n: np.ndarray
    # C2 (scalars)
    c2_network: bool
    c2_latency_s: float
    c2_double_engagement: bool
    c2_priority: int
    c2_decoy_discrimination: float
    c2_central: bool


class Labels(NamedTuple):
    """Names that go with the array rows, for results and traces."""
    raids: list
    groups: list          # by-type rows ("shahed136", "decoy_drone", "shahed136 (decoy)")
    group_cost_usd: list
    units: list
    unit_types: list
    sensors: list
    assets: list
    threat_names: list    # one per instance: "raid#k"


def _f(values) -> np.ndarray:
    return np.asarray(values, dtype=np.float64)


def _i(values) -> np.ndarray:
    return np.asarray(values, dtype=np.int64)


def _b(values) -> np.ndarray:
    return np.asarray(values, dtype=np.bool_)


def compile_scenario(scn: Scenario) -> tuple[CompiledScenario, Labels]:
    asset_index = {a.name: i for i, a in enumerate(scn.base.assets)}
    groups: list[str] = []
    group_cost: list[float] = []
    th: dict[str, list] = {k: [] for k in CompiledScenario._fields if k.startswith("th_")}
    rd: dict[str, list] = {k: [] for k in CompiledScenario._fields if k.startswith("rd_")}
    threat_names = []
    for k, raid in enumerate(scn.raids):
        t = raid.threat
        group = t.id + (" (decoy)" if t.decoy and "decoy" not in t.id else "")
        if group not in groups:
            groups.append(group)
            group_cost.append(t.cost_usd)
        rd["rd_first"].append(len(th["th_raid"]))
        rd["rd_count"].append(raid.count)
        poisson = raid.timing.rate_per_min > 0
        rd["rd_arrival"].append(ARRIVAL_POISSON if poisson else ARRIVAL_FIXED)
        rd["rd_start_s"].append(raid.timing.start_s)
        rd["rd_interval_s"].append(raid.timing.interval_s)
        rd["rd_rate_per_s"].append(raid.timing.rate_per_min / 60.0)
        rd["rd_jitter_s"].append(raid.timing.jitter_s)
        if raid.aim_mode == "asset":
            aim_mode = asset_index[raid.aim_asset]
        elif raid.aim_mode == "random_asset":
            aim_mode = AIM_RANDOM_ASSET
        else:
            aim_mode = AIM_POINT
        for i in range(raid.count):
            threat_names.append(f"{raid.name}#{i + 1}")
            row = {
                "th_raid": k, "th_group": groups.index(group),
                "th_class": CLASS_INDEX[t.threat_class], "th_cruise": t.threat_class in CRUISE_CLASSES,
                "th_site_e": raid.launch_e, "th_site_n": raid.launch_n,
                "th_launch_spread_m": raid.launch_spread_m, "th_aim_mode": aim_mode,
                "th_aim_e": raid.aim_e, "th_aim_n": raid.aim_n, "th_aim_spread_m": raid.aim_spread_m,
                "th_speed_mps": t.speed_mps, "th_apogee_ratio": t.apogee_ratio,
                "th_apogee_m": t.apogee_m, "th_altitude_m": t.altitude_m,
                "th_dive_m": t.dive_distance_m,
                "th_has_ingress": raid.ingress_bearing_deg is not None,
                "th_ingress_bearing_rad": math.radians(raid.ingress_bearing_deg or 0.0),
                "th_ingress_m": raid.ingress_distance_m, "th_cep_m": t.cep_m,
                "th_cep_frac": t.cep_frac_of_range, "th_reliability": t.reliability,
                "th_rcs_m2": t.rcs_m2, "th_lethal_m": 0.0 if t.decoy else t.lethal_radius_m,
                "th_cost_usd": t.cost_usd, "th_decoy": t.decoy,
            }
            for key, value in row.items():
                th[key].append(value)

    sensor_index = {s.name: i for i, s in enumerate(scn.sensors)}
    tracks = np.zeros((len(scn.sensors), N_CLASSES), dtype=np.bool_)
    for i, s in enumerate(scn.sensors):
        for c in s.spec.classes:
            tracks[i, CLASS_INDEX[c]] = True

    n_units = len(scn.units)
    engages = np.zeros((n_units, N_CLASSES), dtype=np.bool_)
    pk = np.zeros((n_units, N_CLASSES))
    shots = np.ones((n_units, N_CLASSES), dtype=np.int64)
    for i, u in enumerate(scn.units):
        for c, p in u.spec.pk.items():
            engages[i, CLASS_INDEX[c]] = True
            pk[i, CLASS_INDEX[c]] = p
        for c in CLASS_INDEX:
            shots[i, CLASS_INDEX[c]] = u.spec.shots_against(c)
    allowed = np.zeros((n_units, N_CLASSES), dtype=np.bool_)
    hold_need = np.zeros((n_units, N_CLASSES), dtype=np.int64)
    cost_per_kill = np.full((n_units, N_CLASSES), np.inf)
    for i, u in enumerate(scn.units):
        for c in u.spec.allowed_classes():
            allowed[i, CLASS_INDEX[c]] = True
        for k, c in enumerate(CLASS_INDEX):
            # hold_for keeps N shots for class c: a shot at any other class may not cut into them
            hold_need[i, k] = sum(n for held, n in u.spec.hold_for.items() if held != c)
            if pk[i, k] > 0:
                n = shots[i, k]
                cost_per_kill[i, k] = u.spec.cost_per_shot_usd * n / (1.0 - (1.0 - pk[i, k]) ** n)

    vert_e, vert_n, start = [], [], [0]
    for a in scn.base.assets:
        xs, ys = a.polygon.exterior.coords.xy
        vert_e.extend(list(xs)[:-1])
        vert_n.extend(list(ys)[:-1])
        start.append(len(vert_e))
    aim_points = [asset_aim_point(a) for a in scn.base.assets]
    reach = [polygon_reach_circle(vert_e[start[a]:start[a + 1]], vert_n[start[a]:start[a + 1]])
             for a in range(len(scn.base.assets))]
    da_x, da_y = scn.defended_area.exterior.coords.xy
    # Each sensor's detection range for each threat (a constant of the scenario, not computed
    # again in every replication): the njit function's own Python body, whose ** calls the
    # same libm pow as its compiled code (tests/engine/test_detection_culling.py checks the bits).
    det_range = np.empty((len(scn.sensors), len(th["th_rcs_m2"])))
    for i, s in enumerate(scn.sensors):
        by_rcs = {rcs: detection_range_m.py_func(float(s.spec.range_m), float(rcs),
                                                 float(s.spec.rcs_ref_m2),
                                                 bool(s.spec.rcs_scaling))
                  for rcs in set(th["th_rcs_m2"])}
        det_range[i] = [by_rcs[rcs] for rcs in th["th_rcs_m2"]]
    U = scn.units
    compiled = CompiledScenario(
        **{k: (_b(v) if k in ("th_cruise", "th_has_ingress", "th_decoy") else
               _i(v) if k in ("th_raid", "th_group", "th_class", "th_aim_mode") else _f(v))
           for k, v in th.items()},
        **{k: (_i(v) if k in ("rd_first", "rd_count", "rd_arrival") else _f(v))
           for k, v in rd.items()},
        se_e=_f([s.east_m for s in scn.sensors]), se_n=_f([s.north_m for s in scn.sensors]),
        se_height_m=_f([s.spec.height_m for s in scn.sensors]), se_tracks=tracks,
        se_range_m=_f([s.spec.range_m for s in scn.sensors]),
        se_rcs_ref_m2=_f([s.spec.rcs_ref_m2 for s in scn.sensors]),
        se_rcs_scaling=_b([s.spec.rcs_scaling for s in scn.sensors]),
        se_facing_deg=_f([s.facing_deg for s in scn.sensors]),
        se_width_deg=_f([s.spec.sector_width_deg for s in scn.sensors]),
        se_track_delay_s=_f([s.spec.track_delay_s for s in scn.sensors]),
        se_det_range_m=det_range,
        un_e=_f([u.east_m for u in U]), un_n=_f([u.north_m for u in U]),
        un_facing_deg=_f([u.facing_deg for u in U]),
        un_width_deg=_f([u.spec.sector_width_deg for u in U]),
        un_rmin_m=_f([u.spec.min_range_m for u in U]), un_rmax_m=_f([u.spec.max_range_m for u in U]),
        un_zmin_m=_f([u.spec.min_altitude_m for u in U]),
        un_zmax_m=_f([u.spec.max_altitude_m for u in U]),
        un_engages=engages, un_pk=pk, un_shots=shots,
        un_channels=_i([u.spec.channels for u in U]),
        un_magazine=_i([0 if u.spec.kind == "laser" else u.spec.magazine for u in U]),
        un_reserve=_i([0 if u.spec.kind == "laser" else u.spec.reserve for u in U]),
        un_unlimited=_b([u.spec.kind == "laser" for u in U]),
        un_reload_s=_f([u.spec.reload_s for u in U]),
        un_rounds_per_shot=_i([u.spec.rounds_per_shot if u.spec.kind == "gun" else 1 for u in U]),
        un_kind=_i([UNIT_KINDS[u.spec.kind] for u in U]),
        un_hold=_i([CHANNEL_HOLDS[u.spec.channel_hold] for u in U]),
        un_cycle_s=_f([u.spec.cycle_s for u in U]), un_burst_s=_f([u.spec.burst_s for u in U]),
        un_dwell_s=_f([u.spec.dwell_s for u in U]),
        un_dwell_ref_m=_f([u.spec.dwell_ref_range_m if u.spec.kind == "laser" else 1.0 for u in U]),
        un_reaction_s=_f([u.spec.reaction_s for u in U]),
        un_speed_mps=_f([u.spec.speed_mps if u.spec.kind != "laser" else 1.0 for u in U]),
        un_launch_delay_s=_f([u.spec.launch_delay_s for u in U]),
        un_retarget_s=_f([u.spec.retarget_s for u in U]),
        un_assessment_s=_f([u.spec.kill_assessment_s for u in U]),
        un_max_engagements=_i([u.spec.max_engagements for u in U]),
        un_defended_only=_b([u.spec.defended_area_only for u in U]),
        un_cost_usd=_f([u.spec.cost_per_shot_usd for u in U]),
        un_sensor=_i([sensor_index[u.sensor] if u.sensor is not None else -1 for u in U]),
        un_allowed=allowed, un_self_defense_m=_f([u.spec.self_defense_m for u in U]),
        un_hold_need=hold_need,
        un_assign_queue=_i([u.spec.assign_queue or 2 * u.spec.channels for u in U]),
        un_cost_per_kill=cost_per_kill,
        as_vert_e=_f(vert_e), as_vert_n=_f(vert_n), as_start=_i(start),
        as_value=_f([a.value for a in scn.base.assets]),
        as_aim_e=_f([p[0] for p in aim_points]), as_aim_n=_f([p[1] for p in aim_points]),
        as_reach_e=_f([c[0] for c in reach]), as_reach_n=_f([c[1] for c in reach]),
        as_reach_m=_f([c[2] for c in reach]),
        da_e=_f(list(da_x)[:-1]), da_n=_f(list(da_y)[:-1]),
        c2_network=bool(scn.c2.network), c2_latency_s=float(scn.c2.latency_s),
        c2_double_engagement=bool(scn.c2.double_engagement),
        c2_priority=int(PRIORITIES[scn.c2.priority]),
        c2_decoy_discrimination=float(scn.c2.decoy_discrimination),
        c2_central=scn.c2.assignment == "central",
    )
    try:
        check_key_bounds(len(compiled.th_raid), len(U), int(shots.max()) if n_units else 1)
    except ValueError as exc:
        raise InputError(scn.file, "", str(exc)) from None
    labels = Labels(raids=[r.name for r in scn.raids], groups=groups, group_cost_usd=group_cost,
                    units=[u.name for u in U], unit_types=[u.spec.id for u in U],
                    sensors=[s.name for s in scn.sensors],
                    assets=[a.name for a in scn.base.assets], threat_names=threat_names)
    return compiled, labels

