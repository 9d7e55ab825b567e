"""Codes shared by the compiled scenario, both engines and the results.

Every enumeration of the model is a small integer here so that the Numba kernel and the
SimPy reference engine speak the same language over plain numpy arrays.
"""
import numpy as np

# Threat classes (MODEL.md §3). The order is the column order of every per-class table.
THREAT_CLASSES = ("rocket", "mortar", "drone", "cruise_missile", "ballistic_missile")
N_CLASSES = len(THREAT_CLASSES)
CLASS_INDEX = {name: i for i, name in enumerate(THREAT_CLASSES)}
BALLISTIC_CLASSES = ("rocket", "mortar", "ballistic_missile")
CRUISE_CLASSES = ("drone", "cruise_missile")

# Fates (MODEL.md §7). ALIVE only exists while a replication runs.
ALIVE, KILLED, FAILED, LEAKED, MISSED = 0, 1, 2, 3, 4
FATE_NAMES = ("alive", "killed", "failed", "leaked", "missed")

# Fire-unit kinds and channel hold rules (MODEL.md §5).
KIND_MISSILE, KIND_GUN, KIND_LASER = 0, 1, 2
UNIT_KINDS = {"missile": KIND_MISSILE, "gun": KIND_GUN, "laser": KIND_LASER}
HOLD_INTERCEPT, HOLD_LAUNCH = 0, 1
CHANNEL_HOLDS = {"intercept": HOLD_INTERCEPT, "launch": HOLD_LAUNCH}

# Target priority rules (MODEL.md §6).
PRIORITY_TIME_TO_IMPACT, PRIORITY_VALUE, PRIORITY_NEAREST = 0, 1, 2
PRIORITIES = {"time_to_impact": PRIORITY_TIME_TO_IMPACT, "value": PRIORITY_VALUE,
              "nearest": PRIORITY_NEAREST}

# Why a threat was never engaged (MODEL.md §5-7; `trace` and `run`). Ordered by how far the
# engagement got: a threat's reason is the largest over the units (the one that came closest).
WHY_ENGAGED = 0           # it was engaged
WHY_CLASS = 1             # no unit may engage its class (pk = 0)
WHY_DOCTRINE = 2          # fire doctrine: outside engage_classes and not in self-defence
WHY_DECOY = 3             # recognised as a decoy (c2.decoy_discrimination)
WHY_NOT_TRACKED = 4       # no unit knew it before its end
WHY_DEFENDED_AREA = 5     # predicted impact outside the defended area (defended_area_only)
WHY_ENVELOPE = 6          # never inside an envelope
WHY_NO_SHOT = 7           # inside an envelope, but no shot could arrive in the window
WHY_LATE = 8              # a shot was possible, but not after track + reaction time
WHY_NOT_ASSIGNED = 9      # central assignment gave it to no unit that could shoot
WHY_HOLD = 10             # held back: hold_for kept the unit's last interceptors for others
WHY_MAGAZINE = 11         # the unit had no ammunition left when it could have fired
WHY_RELOADING = 12        # the unit was reloading its magazine when it could have fired
WHY_BUSY = 13             # the unit could have fired but its channels were busy (saturation)
WHY_NAMES = ("engaged", "class not engageable", "fire doctrine (engage_classes)",
             "recognised decoy", "not tracked in time",
             "impact predicted outside defended area", "outside every envelope",
             "no feasible shot (intercept too late)", "tracked too late (track + reaction)",
             "not assigned (central)", "held back (hold_for)", "magazine empty",
             "reloading", "channels busy (saturation)")
MAX_RELOADS_NOTED = 16    # reloads per unit and attack whose times the reasons can look at

# Arrival processes of a raid.
ARRIVAL_FIXED, ARRIVAL_POISSON = 0, 1

# Aim modes of a threat instance: >= 0 is an asset index.
AIM_POINT, AIM_RANDOM_ASSET = -1, -2

# Event kinds in processing order at equal times (MODEL.md §8).
# (Typed int64 like the stream ids below: as plain int globals Numba would compile push_event
# and event_key once per kind.)
EV_IMPACT = np.int64(0)      # impacts and failures              (index: threat)
EV_INTERCEPT = np.int64(1)   # intercept resolutions             (index: threat, engagement number)
EV_FREE = np.int64(2)        # channel frees, reload ends, kill-assessment ends (index: unit)
EV_KNOWN = np.int64(3)       # a threat becomes known to a unit  (index: unit, threat)
EV_DECIDE = np.int64(4)      # unit decisions, wake-ups          (index: unit)

# Debug modes of the Numba event loop (kernel.run_events): off; every decision checked against
# the full scan; checked, with the skip rule broken on purpose (the check must then fail).
# Typed int64: the central build of the event loop runs with CHECK_OFF (kernel.loop_build), and
# the debug mode shares that build (the lean build passes None: no check is built in it).
CHECK_OFF, CHECK_ON, CHECK_MUTANT = np.int64(0), np.int64(1), np.int64(2)
# The event loop's build for central C2 (kernel.c2_build; None: the lean build, units deciding
# alone).
CENTRAL_BUILD = np.int64(1)

# Typed values for njit call arguments that would otherwise be Python literals: Numba types a
# literal argument (2, -1) as Literal[int](2) and so on, and compiles the callee once more for
# that type, beside the int64 version another call needs anyway (issue 11: six functions were
# compiled twice, two of them on the way to the event loop).
NO_UNIT = np.int64(-1)         # no fire unit (central C2 found none for a threat)
FIRST_INDEX = np.int64(0)      # an index range that starts at the first element
ROOTS_START = np.int64(2)      # crossing scratch: buf[0] = 0, buf[1] = s_stop, roots after

# Sub-kinds of EV_FREE, in this order at equal times: a channel frees, a reload ends, a kill
# assessment ends, the C2 assigns a threat, an assignment lapses (central assignment, §6 v2).
FREE_CHANNEL, FREE_RELOAD, FREE_ASSESSMENT, FREE_ASSIGN, FREE_LAPSE = (np.int64(k) for k in range(5))
# The sub-index (or EV_FREE threat field) of an event that has none.
NO_SUB = np.int64(0)

# Random-number streams (MODEL.md §9). Typed int64, not plain ints: Numba types a plain int
# global as a literal and would compile key_uniform once per stream.
S_LAUNCH_JITTER = np.int64(1)
S_LAUNCH_X = np.int64(2)
S_LAUNCH_Y = np.int64(3)
S_AIM_X = np.int64(4)
S_AIM_Y = np.int64(5)
S_CEP_X = np.int64(6)
S_CEP_Y = np.int64(7)
S_FAIL = np.int64(8)
S_FAIL_TIME = np.int64(9)
S_POISSON_GAP = np.int64(10)
S_SHOT = np.int64(11)
S_AIM_ASSET = np.int64(12)
S_DISCRIMINATE = np.int64(13)  # decoy recognised (MODEL.md §6 v2 "discriminate", entity j)

# Numerical tolerances shared by both engines.
BISECT_TOL_S = 1e-3        # detection instants by bisection (MODEL.md §4)
BISECT_MAX_ITER = 64       # bisection steps at most (a bracket of 2^64 ms is beyond any flight)
INTERCEPT_TOL_S = 1e-6     # intercept-time bracket width (MODEL.md §5 v2)
INTERCEPT_MAX_ITER = 200   # bracket refinement steps at most (it halves every 4 steps)
INTERCEPT_SCAN_MIN_STEP_S = 1e-4   # smallest forward step when a threat may outrun the interceptor
INTERCEPT_SCAN_MAX_STEPS = 100_000
OUTRUN_SAMPLES = 32        # samples of F(t) on (t_i, a] when a threat may outrun the interceptor
LASER_STEP_S = 0.25        # Simpson step of the laser fluence integral (MODEL.md §5 v2)
LASER_MIN_STEP_S = 1e-4    # ... and at least this (a threat passing within metres)
LASER_MAX_STEPS = 12_000_000   # bounds every dwell integral (0.25 s steps over 30 days)
LASER_MIN_SLANT_M = 1.0    # the fluence rate (ref / slant)^2 is capped at slant = 1 m
LASER_BOUND_PIECES = 8     # intercept.piecewise_dwell_bounds: pieces of a window's tail
LASER_END_ERROR = 1e-4     # a computed dwell end is within this x dwell x (R/ref)^2 + 1e-5 s
                           # of the exact one (100 x the integral's accuracy; kernel cache only)
WINDOW_TOL_S = 1e-3        # an intercept within this of the window start counts as inside
MIN_WAKE_STEP_S = 1e-3     # a wake-up is never scheduled closer than this to now
R_EARTH_M = 6_371_000.0
HORIZON_K_M = 4120.0       # 4/3-Earth radar horizon: d = 4120 (sqrt(h1) + sqrt(h2)) m
CEP_TO_SIGMA = 1.0 / 1.1774
