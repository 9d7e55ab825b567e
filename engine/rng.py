"""Counter-based keyed random numbers (MODEL.md §9).

There is no RNG state anywhere: every uniform is a pure function of
(seed, replication, stream, entity, k), hashed with the SplitMix64 finaliser, one round per
part. The rounds are also exposed one by one (stream_key, entity_key, uniform_of), so that a
loop drawing for every threat hashes (seed, replication, stream) once, not once per draw.
Both engines call these functions, so the same key gives the same number in either engine and
on any number of threads, and threat draws never depend on the defence (common random
numbers).
"""
import math

import numpy as np
from numba import njit

from salvosim.engine.jit import JIT

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_TWO_POW_M53 = 1.0 / 9007199254740992.0
# Draw indices k typed int64: a literal 0 or 1 would compile key_uniform once per value.
K0, K1 = np.int64(0), np.int64(1)


@njit(**JIT)
def mix64(z):
    """SplitMix64 finaliser: a bijective avalanche of a uint64."""
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(**JIT)
def stream_key(seed, rep, stream):
    """The first three rounds of key_uniform's hash, over (seed, replication, stream): the same
    for every draw of the stream in a replication, so hot loops compute it once (issue 11)."""
    h = mix64(np.uint64(seed) + _GOLDEN)
    h = mix64(h ^ (np.uint64(rep) + _GOLDEN * np.uint64(2)))
    return mix64(h ^ (np.uint64(stream) + _GOLDEN * np.uint64(3)))


@njit(**JIT)
def entity_key(stream_key_, entity):
    """The fourth round, over the entity: shared by a normal's two uniforms. (Keys are cast to
    uint64: from Python a key below 2^63 arrives as int64, and int64 ^ uint64 is a float.)"""
    return mix64(np.uint64(stream_key_) ^ (np.uint64(entity) + _GOLDEN * np.uint64(4)))


@njit(**JIT)
def uniform_of(entity_key_, k):
    """The last round, over the draw index k: U in [0, 1) with 53 random bits."""
    h = mix64(np.uint64(entity_key_) ^ (np.uint64(k) + _GOLDEN * np.uint64(5)))
    return float(h >> _S11) * _TWO_POW_M53


@njit(**JIT)
def normal_of(entity_key_):
    """Standard normal by Box–Muller over the uniforms of keys k = 0 and k = 1."""
    u1 = uniform_of(entity_key_, K0)
    u2 = uniform_of(entity_key_, K1)
    return math.sqrt(-2.0 * math.log(1.0 - u1)) * math.cos(2.0 * math.pi * u2)


@njit(**JIT)
def exponential_of(entity_key_, rate):
    """Exponential variate with the given rate (1/s), by inversion of the k = 0 uniform."""
    return -math.log(1.0 - uniform_of(entity_key_, K0)) / rate


@njit(**JIT)
def key_uniform(seed, rep, stream, entity, k):
    """U(seed, rep, stream, entity, k) in [0, 1) with 53 random bits."""
    return uniform_of(entity_key(stream_key(seed, rep, stream), entity), k)


@njit(**JIT)
def key_normal(seed, rep, stream, entity):
    """Standard normal by Box–Muller over the uniforms of keys k = 0 and k = 1."""
    return normal_of(entity_key(stream_key(seed, rep, stream), entity))


@njit(**JIT)
def key_exponential(seed, rep, stream, entity, rate):
    """Exponential variate with the given rate (1/s), by inversion."""
    return exponential_of(entity_key(stream_key(seed, rep, stream), entity), rate)
