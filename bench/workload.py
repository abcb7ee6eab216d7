"""A benchmark workload as plain parameters, and the seeded stream of PR arrivals it makes.

The stream depends only on the workload and the seed, so every strategy faces the same PRs.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    GOOD = "good"
    # Passes its own checks, breaks every tested combination on the current base.
    BAD = "bad"


@dataclass(frozen=True, slots=True)
class Workload:
    name: str
    arrivals_per_hour: float
    ci_minutes: float = 20.0
    bad_fraction: float = 0.0
    flake_rate: float = 0.02
    # Chance that a new PR breaks only together with one PR opened shortly before it.
    pair_probability: float = 0.0
    hours: float = 8.0

    @property
    def ci_seconds(self) -> float:
        return self.ci_minutes * 60.0

    @property
    def seconds(self) -> float:
        return self.hours * 3600.0

    def describe(self) -> str:
        parts = [
            f"{self.arrivals_per_hour:g} PRs/h",
            f"{self.bad_fraction:.0%} bad",
            f"CI {self.ci_minutes:g}m",
            f"{self.flake_rate:.0%} flakes",
            f"{self.hours:g}h",
        ]
        if self.pair_probability:
            parts.insert(2, f"{self.pair_probability:.0%} pairs")
        return ", ".join(parts)


@dataclass(frozen=True, slots=True)
class Arrival:
    """The `index`-th PR of the stream, opened `at` seconds after the start."""

    index: int
    at: float
    kind: Kind
    partner: int | None = None  # index of an earlier arrival it breaks together with

    @property
    def path(self) -> str:
        folder = "bad" if self.kind == Kind.BAD else "changes"
        return f"{folder}/pr-{self.index:04d}.txt"


# How far back a pair partner is drawn from: PRs that are likely still open.
PAIR_WINDOW = 3600.0


def arrivals(workload: Workload, seed: int) -> list[Arrival]:
    """A Poisson process of PR arrivals over the workload's hours; seeded, so reproducible."""
    rng = random.Random(f"{workload.name}:{seed}")
    out: list[Arrival] = []
    rate = workload.arrivals_per_hour / 3600.0
    at = 0.0
    while rate > 0:
        at += rng.expovariate(rate)
        if at >= workload.seconds:
            break
        kind = Kind.BAD if rng.random() < workload.bad_fraction else Kind.GOOD
        partner = None
        if kind == Kind.GOOD and rng.random() < workload.pair_probability:
            recent = [a.index for a in out if a.kind == Kind.GOOD and at - a.at <= PAIR_WINDOW]
            partner = rng.choice(recent) if recent else None
        out.append(Arrival(len(out), at, kind, partner))
    return out


WORKLOADS: dict[str, Workload] = {
    "healthy": Workload("healthy", 30.0),
    "light": Workload("light", 10.0, bad_fraction=0.10),
    "busy": Workload("busy", 30.0, bad_fraction=0.10),
    # PRs that break only together with one opened in the hour before them.
    "pairs": Workload("pairs", 10.0, pair_probability=0.10),
}

EXTRA_WORKLOADS: dict[str, Workload] = {}


def quick(workload: Workload) -> Workload:
    """The same workload over one simulated hour, for a smoke run."""
    return Workload(
        workload.name,
        workload.arrivals_per_hour,
        workload.ci_minutes,
        workload.bad_fraction,
        workload.flake_rate,
        workload.pair_probability,
        hours=1.0,
    )
