"""The grader's CSV (``grading/csvlog.py``): reversible student ids, cells that are never formulas, resuming."""
from __future__ import annotations

from workshop_utils.grading.csvlog import CsvLog, csv_safe, student_id, student_name


def test_student_ids_are_reversible_and_csv_cells_are_not_formulas():
    for raw in (b"alice", b"caf\xe9", "Zoë".encode(), b"~b64~trick", b"tab\there"):
        assert student_name(student_id(raw)) == raw
    assert student_id(b"alice") == "alice" and student_id(b"caf\xe9").startswith("~b64~")
    assert [csv_safe(v) for v in ("=1+1", "+1", "-2", "@x", "\tx", "ok", "10")] == \
        ["'=1+1", "'+1", "'-2", "'@x", "'\tx", "ok", "10"]


def test_csv_log_neutralises_formulas_and_resumes_with_them(tmp_path):
    out = tmp_path / "g.csv"
    cols = ["student", "p1", "total", "max", "status", "reasons"]
    log = CsvLog(out, cols, resume=False)
    log.append({"student": "=cmd", "p1": "1", "total": "1", "max": "10", "status": "ok", "reasons": "-x"})
    assert "'=cmd" in out.read_text() and ",'-x" in out.read_text()
    assert CsvLog(out, cols, resume=True).is_done("=cmd")
