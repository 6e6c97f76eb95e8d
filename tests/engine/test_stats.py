"""The intervals on known counts, checked against values computed by hand (and published ones)."""

from __future__ import annotations

import pytest

from engine.scoring import flagged_figures, summarize
from engine.stats import Paired, mean_interval, paired, wilson


def test_wilson_matches_the_textbook_values() -> None:
    # 8/10: the standard worked example, 0.490 to 0.943
    ci = wilson(8, 10)
    assert ci is not None and (ci.lo, ci.hi) == pytest.approx((0.49016, 0.94332), abs=1e-5)
    # at 0/n and n/n the interval still has a width (Wald's collapses to a point)
    assert wilson(0, 10).as_list() == [0.0, 0.2775]  # type: ignore[union-attr]
    assert wilson(20, 20).as_list() == [0.8389, 1.0]  # type: ignore[union-attr]
    assert wilson(0, 0) is None
    with pytest.raises(ValueError):
        wilson(3, 2)


def test_paired_difference_matches_newcombe_by_hand() -> None:
    # Altman et al., Statistics with Confidence, table 6.2: 14 both, 5 only first, 0 only second, 22 neither.
    # By hand: p1 = 19/41, p2 = 14/41; Wilson (0.32056, 0.61254) and (0.21559, 0.49450);
    # phi = (14*22 - 0 - 41/2) / sqrt(19*22*14*27) = 0.72328; D = 5/41 = 0.12195;
    # low = D - sqrt(0.14287^2 - 2 phi 0.14287*0.15304 + 0.15304^2) = 0.01148, high = 0.22649.
    p = Paired(14, 5, 0, 22)
    assert p.diff == pytest.approx(0.12195, abs=1e-5)
    assert (p.interval().lo, p.interval().hi) == pytest.approx((0.01148, 0.22649), abs=1e-5)
    assert p.interval().excludes_zero()
    assert p.mcnemar_p() == pytest.approx(2 * 0.5**5)  # 5 discordant probes, all one way


def test_paired_difference_without_discordant_probes_straddles_zero() -> None:
    p = Paired(5, 0, 0, 15)
    assert p.diff == 0 and not p.interval().excludes_zero() and p.mcnemar_p() == 1.0
    assert p.interval().lo == pytest.approx(-p.interval().hi)


def test_paired_counts_only_the_probes_both_answered() -> None:
    found = paired({"a": True, "b": True, "c": False, "x": True}, {"a": True, "b": False, "c": True})
    assert found == Paired(1, 1, 1, 0)
    assert paired({"a": True}, {"b": True}) is None


def _rows(pid: str, cat: str, results: list[bool]) -> list[dict[str, object]]:
    return [
        {"persona_id": pid, "category": cat, "passed": r, "probe_id": f"{cat}-{i}"}
        for i, r in enumerate(results)
    ]


def test_highlights_light_up_only_when_the_interval_excludes_zero() -> None:
    # one probe of 20 lost: forgetting +5 pts, well inside the noise
    small = _rows("base", "general_skill", [True] * 20) + _rows("ft", "general_skill", [True] * 19 + [False])
    s = summarize(small, ["base", "ft"])
    assert s["overall"]["ft"]["forgetting"] == pytest.approx(0.05)
    assert s["intervals"]["ft"]["forgetting"][0] < 0 < s["intervals"]["ft"]["forgetting"][1]
    assert "forgetting" not in flagged_figures(s)["ft"]
    # ten of 20 lost: a real effect
    big = _rows("base", "general_skill", [True] * 20) + _rows(
        "ft", "general_skill", [True] * 10 + [False] * 10
    )
    big += _rows("base", "open_opinion", [True] * 20) + _rows("ft", "open_opinion", [False] * 12 + [True] * 8)
    s = summarize(big, ["base", "ft"])
    assert s["paired"]["ft"]["forgetting"]["b"] == 10 and s["paired"]["ft"]["forgetting"]["p_value"] < 0.01
    assert flagged_figures(s)["ft"] == {"forgetting", "overgeneralisation_rate"}
    assert flagged_figures(s)["base"] == set()
    lo, hi = s["intervals"]["ft"]["general_ability"]
    assert lo < 0.5 < hi and s["rate_intervals"]["ft"]["general_skill"] == [lo, hi]


def test_mean_across_seeds_uses_students_t() -> None:
    # 0.5, 0.6, 0.7: mean 0.6, sd 0.1, t(2) = 4.303 -> half width 4.303 * 0.1 / sqrt(3) = 0.24843
    mean, ci = mean_interval([0.5, 0.6, 0.7])
    assert mean == pytest.approx(0.6) and ci is not None
    assert (ci.lo, ci.hi) == pytest.approx((0.35157, 0.84843), abs=1e-5)
    assert mean_interval([0.4]) == (0.4, None)  # one seed: no spread to measure
    _, wide = mean_interval([0.92, 0.75, 0.83])
    _, clipped = mean_interval([0.92, 0.75, 0.83], (0.0, 1.0))
    assert wide is not None and wide.hi > 1.0  # three seeds: t = 4.30, the raw interval passes 100%
    assert clipped is not None and clipped.hi == 1.0 and clipped.lo == wide.lo
