"""The ``workshop_utils.grading`` package itself: its public names, and what importing it costs."""
from __future__ import annotations

import subprocess
import sys

import pytest

import workshop_utils.grading as grading


def test_public_names_are_importable_and_listed():
    for name in grading.__all__:
        assert getattr(grading, name) is not None
    assert sorted(grading.PRACTICES) == [1, 2]
    assert all(len(grading.PRACTICES[d]) == 5 for d in (1, 2))  # five practices of 10 points a day


def test_get_practice_names_what_exists():
    assert grading.get_practice(2, 3).number == 3
    with pytest.raises((ValueError, KeyError), match="practice"):
        grading.get_practice(1, 9)


def test_importing_the_student_side_loads_no_framework():
    code = ("import sys, workshop_utils.grading; "
            "print(sorted(m for m in ('tensorflow', 'torch', 'keras', 'nbclient') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
