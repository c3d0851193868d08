"""The homework practices of both days, in one registry.

Each :class:`~workshop_utils.grading.core.Practice` lists what the student leaves behind
and the public checks; public and hidden checks of a practice add up to 10 points (the
hidden ones are not in this package, see :mod:`workshop_utils.grading.hidden`).  The
practices are defined one block each in :mod:`~workshop_utils.grading.day1` and
:mod:`~workshop_utils.grading.day2`; what they share (reference data, probe thresholds and
scores, the consistency/private distinction) is in :mod:`~workshop_utils.grading.checks_common`,
re-exported here for hidden-checks files.
"""
from __future__ import annotations

from .checks_common import (reference, LIMITS, limit, probe_scores, probe_labels, probe_auroc,
                            probe_attr, recovery, probe_recovery)  # noqa: F401 - for hidden-checks files
from .core import KIND_WORDS, Practice
from .day1 import DAY1, SCHEDULE_EPOCHS  # noqa: F401
from .day2 import DAY2, json_arc, n_p5, probe_peak_ratio, selected  # noqa: F401
__all__ = ["DAY1", "DAY2", "KIND_WORDS", "LIMITS", "PRACTICES", "SCHEDULE_EPOCHS", "get_practice", "json_arc",
           "leave_behind", "limit", "n_p5", "probe_attr", "probe_auroc", "probe_labels", "probe_peak_ratio",
           "probe_recovery", "probe_scores", "recovery", "reference", "selected"]

PRACTICES: dict[int, list[Practice]] = {1: DAY1, 2: DAY2}


def get_practice(day: int, number: int) -> Practice:
    """The practice ``number`` (1-5) of ``day`` (1 or 2)."""
    if day not in PRACTICES:
        raise ValueError(f"day must be one of {sorted(PRACTICES)}, got {day!r}")
    for p in PRACTICES[day]:
        if p.number == number:
            return p
    raise ValueError(f"practice must be one of {[p.number for p in PRACTICES[day]]} for day {day}, got {number!r}")


def leave_behind(practice: Practice) -> str:
    """The "Leave behind" list of a practice, as the homework notebooks print it (Markdown)."""
    return "\n".join(f"- `{r.name}` ({KIND_WORDS[r.kind]}): {r.what}" for r in practice.requirements)
