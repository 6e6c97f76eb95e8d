"""Intervals for the teacher's figures: how far one run's pass rate can be trusted.

With 20 probes per category one probe is 5 points, so every rate gets a 95%
Wilson score interval (it stays inside [0, 1] and is sensible at 0/n and n/n,
where the textbook ±1.96·√(p(1−p)/n) collapses to a point). A persona is
compared with Base on the *same* probes, so the difference is paired:
Newcombe's hybrid score interval for a difference of paired proportions
(Newcombe 1998, method 10) and McNemar's exact test on the discordant probes.
No sampling is involved, so the same answers always give the same interval.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

#: Two-sided 95%.
Z95 = 1.959963984540054


@dataclass(frozen=True)
class Interval:
    lo: float
    hi: float

    def excludes_zero(self) -> bool:
        return self.lo > 1e-12 or self.hi < -1e-12

    def as_list(self) -> list[float]:
        return [round(self.lo, 4), round(self.hi, 4)]


def wilson(k: int, n: int, z: float = Z95) -> Interval | None:
    """Wilson score interval for k passes out of n; None for n = 0 (nothing was asked)."""
    if n <= 0:
        return None
    if not 0 <= k <= n:
        raise ValueError(f"k={k} must lie in 0..n={n}")
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return Interval(max(0.0, centre - half), min(1.0, centre + half))


@dataclass(frozen=True)
class Paired:
    """A − B on the same n probes: both passed (a), only A (b), only B (c), neither (d)."""

    a: int
    b: int
    c: int
    d: int

    @property
    def n(self) -> int:
        return self.a + self.b + self.c + self.d

    @property
    def diff(self) -> float:
        return (self.b - self.c) / self.n

    def interval(self, z: float = Z95) -> Interval:
        """Newcombe's method 10: Wilson intervals of both rates, joined through their correlation."""
        a, b, c, d, n = self.a, self.b, self.c, self.d, self.n
        p1, p2 = (a + b) / n, (a + c) / n
        w1, w2 = wilson(a + b, n, z), wilson(a + c, n, z)
        assert w1 is not None and w2 is not None
        denom = (a + b) * (c + d) * (a + c) * (b + d)
        # Newcombe's phi: a positive correlation is shrunk by n/2 (his continuity correction)
        raw = a * d - b * c
        cross = raw - n / 2 if raw > n / 2 else float(min(raw, 0))
        phi = cross / math.sqrt(denom) if denom else 0.0
        dl1, du1, dl2, du2 = p1 - w1.lo, w1.hi - p1, p2 - w2.lo, w2.hi - p2
        delta = math.sqrt(max(0.0, dl1 * dl1 - 2 * phi * dl1 * du2 + du2 * du2))
        eps = math.sqrt(max(0.0, du1 * du1 - 2 * phi * du1 * dl2 + dl2 * dl2))
        return Interval(max(-1.0, self.diff - delta), min(1.0, self.diff + eps))

    def mcnemar_p(self) -> float:
        """Exact two-sided McNemar test: the discordant probes split as a fair coin would?"""
        m = self.b + self.c
        if m == 0:
            return 1.0
        k = min(self.b, self.c)
        tail = sum(math.comb(m, i) for i in range(k + 1)) / 2**m
        return min(1.0, 2 * tail)

    def as_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "n": self.n,
            "diff": round(self.diff, 4),
            "ci": self.interval().as_list(),
            "p_value": round(self.mcnemar_p(), 4),
        }


def paired(first: dict[str, bool], second: dict[str, bool]) -> Paired | None:
    """Count the four outcomes on the probes both answered (keyed by probe id)."""
    shared = [k for k in first if k in second]
    if not shared:
        return None
    a = sum(1 for k in shared if first[k] and second[k])
    b = sum(1 for k in shared if first[k] and not second[k])
    c = sum(1 for k in shared if not first[k] and second[k])
    return Paired(a, b, c, len(shared) - a - b - c)


#: Two-sided 97.5% quantiles of Student's t for 1..10 degrees of freedom (beyond: the normal's).
_T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228]


def mean_interval(
    values: list[float], bounds: tuple[float, float] | None = None
) -> tuple[float, Interval | None]:
    """Mean across seeds and its 95% t interval (None with a single seed: no spread to measure).

    ``bounds`` clip the interval to the values the figure can take (a rate lies in 0..1): with three
    seeds the t interval is wide, and "63-104%" would read as a mistake, not as uncertainty.
    """
    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return mean, None
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    t = _T975[n - 2] if n - 2 < len(_T975) else Z95
    half = t * sd / math.sqrt(n)
    low, high = mean - half, mean + half
    if bounds is not None:
        low, high = max(low, bounds[0]), min(high, bounds[1])
    return mean, Interval(low, high)
