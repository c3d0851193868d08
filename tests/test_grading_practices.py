"""The practices (``grading/practices.py``): 10 points each, private checks outweigh the rest, leave-behind lists."""
from __future__ import annotations

import json

from _homework_kit import HIDDEN, REPO
from workshop_utils.grading.hidden import load_hidden
from workshop_utils.grading.practices import PRACTICES, SCHEDULE_EPOCHS, leave_behind


NOTEBOOKS = {1: ["homework/day1_homework.ipynb", "tests/homework_solutions/day1_reference.ipynb",
                 "tests/homework_solutions/day1_partial.ipynb"],
             2: ["homework/day2_homework.ipynb", "tests/homework_solutions/day2_reference.ipynb",
                 "tests/homework_solutions/day2_partial.ipynb"]}


def _all_checks(hidden, day, p):
    return p.checks + hidden[(day, p.number)]


def test_each_practice_is_worth_10_points_with_the_hidden_checks():
    hidden = load_hidden(HIDDEN)
    for day, practices in PRACTICES.items():
        assert [p.number for p in practices] == [1, 2, 3, 4, 5]
        for p in practices:
            total = sum(c.points for c in _all_checks(hidden, day, p))
            assert total == 10, (day, p.number, total)
            assert all(c.hidden for c in hidden[(day, p.number)])
            assert not any(c.hidden for c in p.checks)


def test_private_checks_outweigh_the_consistency_checks():
    """Where a practice credits a trained model, the checks on private data are worth more than the rest.

    "The rest" is every check but the figure and the written answer (which no data can prove):
    the consistency checks between the student's numbers and the structural ones.
    """
    hidden = load_hidden(HIDDEN)
    for day, practices in PRACTICES.items():
        for p in practices:
            checks = _all_checks(hidden, day, p)
            private = sum(c.points for c in checks if c.private)
            if not any(r.kind == "model" for r in p.requirements):
                assert private == 0, (day, p.number)
                continue
            rest = sum(c.points for c in checks if not c.private
                       and not c.name.endswith((" drawn", " written")))
            assert private >= 5 and private > rest, (day, p.number, private, rest)
            for c in checks:  # a private check needs a model exported with its probe scores
                if c.private:
                    kinds = {r.name: r.kind for r in p.requirements}
                    assert any(kinds.get(n) == "model" for n in c.needs), (day, p.number, c.name)


def test_leave_behind_lists_match_the_requirements():
    """Every homework notebook (templates and solutions) lists what its practices' checks read."""
    for day, paths in NOTEBOOKS.items():
        for rel in paths:
            cells = json.loads((REPO / rel).read_text())["cells"]
            text = ["".join(c["source"]) for c in cells if c["cell_type"] == "markdown"]
            for p in PRACTICES[day]:
                block = [t for t in text if t.startswith(f"### Practice {p.number}:")]
                assert len(block) == 1, (rel, p.number)
                got = block[0].split("read them):\n\n", 1)[1].strip()
                assert got == leave_behind(p), f"{rel}, practice {p.number}: expected\n{leave_behind(p)}"


def test_the_schedule_check_follows_fits_longer_than_ten_epochs():
    """A full-mode fit with early stopping can run 11+ epochs; the schedule check must still compare them."""
    (chk,) = [c for c in load_hidden(HIDDEN)[(1, 3)] if c.name == "the schedule drove the learning rate"]
    schedule = [1e-3 * 0.8 ** e for e in range(SCHEDULE_EPOCHS)]
    for epochs in (3, 11, 30):
        ok, msg = chk.fn({"history_p3": {"learning_rate": schedule[:epochs]}, "lr_schedule": schedule}, {})
        assert ok, msg
    ok, _ = chk.fn({"history_p3": {"learning_rate": [1e-3] * 11}, "lr_schedule": schedule}, {})
    assert not ok  # a constant learning rate did not follow the schedule
