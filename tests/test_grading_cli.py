"""The grader's command line (``grading/cli.py``, run by ``grader.main``): clear failures on bad input."""
from __future__ import annotations

import pytest

from workshop_utils.grading.grader import grade_folder, main


def test_the_command_line_fails_clearly_on_nothing_to_grade_and_bad_numbers(tmp_path, capsys):
    assert main([str(tmp_path), "--day", "1", "--out", str(tmp_path / "g.csv")]) == 2
    assert "no notebooks" in capsys.readouterr().err
    for bad in ("inf", "nan", "-1", "0", "soon"):
        with pytest.raises(SystemExit):
            main([str(tmp_path), "--day", "1", "--out", str(tmp_path / "g.csv"), "--timeout", bad])
        assert "--timeout" in capsys.readouterr().err
    with pytest.raises(ValueError, match="timeout"):
        grade_folder(tmp_path, 1, tmp_path / "g.csv", timeout=float("inf"))
    with pytest.raises(ValueError, match="jobs"):
        grade_folder(tmp_path, 1, tmp_path / "g.csv", jobs=0)
