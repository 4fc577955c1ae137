"""The take's soundtrack, synthesised from the session: ambience plus sounds at the ticks they happen.

Ambience follows the biome, weather and hour: wind (low-passed noise, stronger in storms and
on snow/alpine), rain (bright noise with drops), birds by day in green biomes (short chirps),
insects at night (a buzzing high tone). Events: footsteps (every `STRIDE` metres walked on the
ground), a jump and a landing, the player's attack swing and creature bites, each starting at
its tick's time from the take's start. Everything is seeded by the world seed: the same take
gives the same samples. No synthesis library fits this (it is a few numpy formulas).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from studio.conventions import TICK_HZ

SAMPLE_RATE = 48_000
STRIDE = 0.8
"""Metres between footsteps."""
GREEN = {"conifer_forest", "broadleaf_forest", "meadow", "farmland", "village", "swamp", "ruins"}


@dataclass
class SoundEvents:
    """What happened in a take, as take rows (ticks from the take's start)."""

    footsteps: list[int] = field(default_factory=list)
    jumps: list[int] = field(default_factory=list)
    lands: list[int] = field(default_factory=list)
    attacks: list[int] = field(default_factory=list)
    bites: list[int] = field(default_factory=list)
    weather: list[str] = field(default_factory=list)
    hour: list[float] = field(default_factory=list)


class EventTracker:
    """Fed each tick's state in order (`observe`), collects `SoundEvents`."""

    def __init__(self) -> None:
        self.events = SoundEvents()
        self._prev = None
        self._walked = 0.0
        self._prev_bites = np.zeros(0, np.int64)

    def observe(self, row: int, state) -> None:  # state: studio.sim.SimState
        e, p, q = self.events, state.player, self._prev
        e.weather.append(state.weather)
        e.hour.append(float(state.hour))
        if q is not None:
            if p.swing_tick != q.swing_tick and p.swing_tick >= 0:
                e.attacks.append(row - (state.tick - p.swing_tick))
            if q.on_ground and not p.on_ground and p.vy > 0:
                e.jumps.append(row)
            if not q.on_ground and p.on_ground:
                e.lands.append(row)
            if p.on_ground and q.on_ground and p.move == "walk":
                self._walked += float(np.hypot(p.x - q.x, p.z - q.z))
                if self._walked >= STRIDE:
                    self._walked -= STRIDE
                    e.footsteps.append(row)
            bitten = state.entities.next_attack
            if len(bitten) and len(bitten) == len(self._prev_bites):
                e.bites.extend([row] * int(np.sum(bitten > self._prev_bites)))
        self._prev = _PlayerCopy(p)
        self._prev_bites = state.entities.next_attack.copy()


class _PlayerCopy:
    def __init__(self, p) -> None:
        self.swing_tick, self.on_ground = p.swing_tick, p.on_ground
        self.x, self.z = p.x, p.z


def _env(n: int, attack: float, decay: float) -> np.ndarray:
    t = np.arange(n) / SAMPLE_RATE
    return np.minimum(t / max(attack, 1e-6), 1.0) * np.exp(-t / decay)


def _lowpass(x: np.ndarray, a: float) -> np.ndarray:
    """One-pole low-pass (a in (0, 1): smaller is darker), vectorised by scipy."""
    from scipy.signal import lfilter

    return lfilter([a], [1, a - 1], x)


def _place(track: np.ndarray, sound: np.ndarray, start: int) -> None:
    if start >= len(track):
        return
    end = min(len(track), start + len(sound))
    track[start:end] += sound[: end - start]


def soundtrack(events: SoundEvents, *, seconds: float, biome: str, seed: int) -> np.ndarray:
    """(S,) float32 mono samples at SAMPLE_RATE in [-1, 1] for a take of `seconds`."""
    rng = np.random.default_rng(seed & 0xFFFFFFFF)
    n = round(seconds * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    rows = np.minimum((t * TICK_HZ).astype(int), max(len(events.weather) - 1, 0))
    weather = np.array(events.weather or ["clear"])[rows] if n else np.array([], str)
    hour = np.array(events.hour or [12.0])[rows] if n else np.zeros(0)
    storm = np.isin(weather, ["storm"])
    wet = np.isin(weather, ["rain", "storm"])
    night = (hour < 6.0) | (hour >= 19.5)
    # Wind: slow gusts over dark noise.
    gust = 0.6 + 0.4 * np.sin(2 * np.pi * 0.13 * t + rng.uniform(0, 6.28))
    wind_gain = 0.05 + 0.08 * storm + (0.04 if biome in ("snow", "alpine", "desert") else 0.0)
    out = wind_gain * gust * _lowpass(rng.standard_normal(n), 0.02) * 4.0
    # Rain: bright hiss plus random drops.
    if wet.any():
        hiss = rng.standard_normal(n) - _lowpass(rng.standard_normal(n), 0.1)
        out += 0.03 * (1 + storm) * hiss * wet
    # Birds by day in green biomes, insects at night.
    if biome in GREEN:
        day = ~night & ~wet
        for start in rng.uniform(0, max(seconds - 0.2, 0.0), int(seconds * 1.5)):
            i = int(start * SAMPLE_RATE)
            if i < n and day[i]:
                m = int(0.09 * SAMPLE_RATE)
                tt = np.arange(m) / SAMPLE_RATE
                f = rng.uniform(2600, 4200) + 1800 * np.sin(2 * np.pi * 22 * tt)
                chirp = np.sin(2 * np.pi * np.cumsum(f) / SAMPLE_RATE) * _env(m, 0.005, 0.03)
                _place(out, 0.05 * chirp, i)
    if night.any():
        buzz = np.sin(2 * np.pi * 4800 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 38 * t)) ** 4
        out += 0.015 * buzz * night

    # Event sounds (onsets at their ticks).
    def at(row: int) -> int:
        return round(row / TICK_HZ * SAMPLE_RATE)

    step_n = int(0.08 * SAMPLE_RATE)
    for r in events.footsteps:
        thud = _lowpass(rng.standard_normal(step_n), 0.08) * _env(step_n, 0.002, 0.02) * 2.5
        _place(out, 0.25 * thud, at(r))
    for r in events.jumps:
        m = int(0.12 * SAMPLE_RATE)
        _place(out, 0.2 * _lowpass(rng.standard_normal(m), 0.2) * _env(m, 0.003, 0.04), at(r))
    for r in events.lands:
        m = int(0.15 * SAMPLE_RATE)
        tt = np.arange(m) / SAMPLE_RATE
        _place(out, 0.45 * np.sin(2 * np.pi * 70 * tt) * _env(m, 0.001, 0.05), at(r))
    for r in events.attacks:
        m = int(0.25 * SAMPLE_RATE)
        swoosh = rng.standard_normal(m) * _env(m, 0.0005, 0.07)
        _place(out, 0.7 * swoosh, at(r))
    for r in events.bites:
        m = int(0.12 * SAMPLE_RATE)
        tt = np.arange(m) / SAMPLE_RATE
        _place(out, 0.5 * np.sign(np.sin(2 * np.pi * 180 * tt)) * _env(m, 0.001, 0.03), at(r))
    return np.clip(out, -1.0, 1.0).astype(np.float32)
