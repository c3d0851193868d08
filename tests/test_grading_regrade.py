"""The regrade (``grading/regrade.py``): byte-identical rows, a changed threshold, exports that lack a value."""
from __future__ import annotations

import shutil

import pytest

from _grading_kit import CLASS, hidden_file
from workshop_utils.grading.regrade import main as regrade_main
from workshop_utils.grading.regrade import regrade
from workshop_utils.grading.store import open_store


@pytest.fixture
def graded(graded_copy):
    """The small graded class (``tests/_homework_kit.py``), with a store and CSV of this test's own."""
    return graded_copy


def test_same_checks_give_byte_identical_rows(graded):
    out = graded["tmp"] / "again.csv"
    res = regrade(graded["store"], out, hidden=[graded["hidden"]], verbose=False)
    assert out.read_bytes() == graded["csv"].read_bytes()
    assert not res.rerun and len(res.rows) == len(CLASS)


def test_a_changed_threshold_changes_only_the_rows_it_should(graded):
    from workshop_utils.grading.checks_common import probe_auroc

    tmp = graded["tmp"]
    v2 = hidden_file(tmp / "hidden_v2.py", 0.85)  # the instructor raises the bar of one hidden check
    out = tmp / "v2.csv"
    regrade(graded["store"], out, hidden=[v2], verbose=False)
    import csv

    with open(graded["csv"], newline="") as fh:
        old = {r["student"]: r for r in csv.DictReader(fh)}
    with open(out, newline="") as fh:
        new = {r["student"]: r for r in csv.DictReader(fh)}
    # the `hidden` column names the hidden checks a row was graded with: every row says the new file
    from workshop_utils.grading.csvlog import hidden_digest

    assert {r["hidden"] for r in new.values()} == {hidden_digest([v2])}
    for r in (*old.values(), *new.values()):
        r.pop("hidden")
    ref = graded["ref"]
    from workshop_utils.grading.export import load_practice
    from workshop_utils.grading.practices import get_practice

    changed = set()
    for sid, folder in graded["folders"].items():
        v = load_practice(get_practice(1, 1), folder)
        if isinstance(v["torch_model"], dict):
            auc = probe_auroc(v, "torch_model", ref)
            if 0.75 <= auc < 0.85:
                changed.add(sid)
    assert changed, "the class must have a student between the two bars"
    assert changed != set(CLASS), "and students outside it"
    for sid in CLASS:
        o, n = old[sid], new[sid]
        if sid in changed:
            assert float(n["p1"]) == float(o["p1"]) - 2 and "torch_model learned" in n["reasons"]
        else:
            assert n == o, sid


def test_a_check_that_needs_what_the_export_lacks_names_the_students(graded, capsys):
    tmp = graded["tmp"]
    needs_ig = tmp / "hidden_ig.py"
    needs_ig.write_text(
        "from workshop_utils.grading.core import Check\n"
        "from workshop_utils.grading.practices import probe_attr\n"
        "def f(v, ref):\n"
        "    a = probe_attr(v, 'torch_model', 'ig', ref)\n"
        "    return a.size > 0, 'has IG'\n"
        "def g(v, ref):\n"
        "    return v['torch_model']['anchor_ig'].size > 0, 'reads the array itself'\n"
        "HIDDEN_CHECKS = {(1, 1): [Check('IG on private data', 1, f, needs=('torch_model',), private=True),\n"
        "                          Check('IG of the anchors', 1, g, needs=('torch_model',))]}\n")
    rc = regrade_main(["--store", str(graded["store"]), "--out", str(tmp / "ig.csv"), "--hidden", str(needs_ig)])
    err = capsys.readouterr().err
    assert rc == 1
    exported = [s for s, (strength, _) in CLASS.items() if strength is not None]
    assert "grade these students again" in err and all(s in err for s in exported) and "dee" not in err.split(
        "again:")[1]
    text = (tmp / "ig.csv").read_text()
    assert "grade this submission again" in text and "p1 IG of the anchors" in text


def test_regrade_refuses_an_existing_csv_and_a_copied_store_works(graded, tmp_path):
    with pytest.raises(FileExistsError):
        regrade(graded["store"], graded["csv"], verbose=False)
    copy = tmp_path / "copy"
    shutil.copytree(graded["store"], copy)
    res = regrade(copy, tmp_path / "c.csv", hidden=[graded["hidden"]], verbose=False)
    assert (tmp_path / "c.csv").read_bytes() == graded["csv"].read_bytes() and not res.rerun


def test_a_student_whose_export_is_missing_is_named_and_the_others_regraded(graded, capsys):
    st = open_store(graded["store"])
    (graded["store"] / st.manifest["submissions"]["bob"]["file"]).unlink()
    out = graded["tmp"] / "m.csv"
    rc = regrade_main(["--store", str(graded["store"]), "--out", str(out), "--hidden", str(graded["hidden"])])
    err = capsys.readouterr().err
    assert rc == 1 and "bob" in err.split("again:")[1]
    import csv

    with open(out, newline="") as fh:
        rows = {r["student"]: r for r in csv.DictReader(fh)}
    assert len(rows) == len(CLASS) and "not regraded" in rows["bob"]["status"] and "missing" in rows["bob"]["status"]
    old = {r["student"]: r for r in graded["rows"]}
    assert rows["ada"]["total"] == old["ada"]["total"]
