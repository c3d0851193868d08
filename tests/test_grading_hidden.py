"""The instructor's hidden checks (``grading/hidden.py``): loaded from outside the package, bad files refused."""
from __future__ import annotations

import pytest

from _homework_kit import HIDDEN, REPO
from workshop_utils.grading.hidden import load_hidden


def test_hidden_checks_are_not_in_the_package():
    pkg = REPO / "workshop_utils"
    text = "".join(p.read_text() for p in pkg.rglob("*.py"))
    for name in ("d1p1_learned", "d1p5_claim", "d2p1_recovers", "d2p5_agree"):  # functions of the hidden file
        assert f"def {name}" in HIDDEN.read_text() and name not in text


def test_load_hidden_rejects_bad_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="hidden"):
        load_hidden(tmp_path / "nope.py")
    bad = tmp_path / "bad.py"
    bad.write_text("HIDDEN_CHECKS = [1, 2]\n")
    with pytest.raises(ValueError, match="HIDDEN_CHECKS"):
        load_hidden(bad)
