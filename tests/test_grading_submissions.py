"""Finding the submissions (``grading/submissions.py``): one notebook or one folder per student."""
from __future__ import annotations

from workshop_utils.grading.submissions import find_submissions


def test_find_submissions_supports_one_folder_per_student(tmp_path):
    (tmp_path / "a.ipynb").write_text("{}")
    (tmp_path / "bob").mkdir()
    (tmp_path / "bob" / "hw.ipynb").write_text("{}")
    (tmp_path / "carol").mkdir()
    for n in ("v1", "v2"):
        (tmp_path / "carol" / f"{n}.ipynb").write_text("{}")
    (tmp_path / ".ipynb_checkpoints").mkdir()
    (tmp_path / ".ipynb_checkpoints" / "a-checkpoint.ipynb").write_text("{}")
    assert sorted(find_submissions(tmp_path)) == ["a", "bob", "carol/v1", "carol/v2"]
