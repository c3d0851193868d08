"""Late work (``workshop_utils.grading.late``): the policy grammar, the deadline, the time sources in order."""
from __future__ import annotations

import datetime as dt
import json
import os

import pytest

from workshop_utils.grading.late import (LatePolicy, Lateness, all_late_warning, apply_lateness, assess,
                                         parse_late_policy, parse_time, read_times)

UTC = dt.timezone.utc
DEADLINE = dt.datetime(2026, 12, 1, 23, 59, tzinfo=dt.timezone(dt.timedelta(hours=1)))
H = dt.timedelta(hours=1)


def test_the_policy_grammar_reads_rate_cap_and_grace():
    p = parse_late_policy("10%/day, cap=50%, grace=15m")
    assert (p.rate, p.period, p.cap, p.grace) == (0.1, dt.timedelta(days=1), 0.5, dt.timedelta(minutes=15))
    assert parse_late_policy("2.5%/hour").period == H and parse_late_policy("2.5%/h").rate == 0.025
    assert parse_late_policy("grace=0,5%/week").grace == dt.timedelta(0)


def test_the_penalty_counts_started_periods_after_the_grace_up_to_the_cap():
    p = parse_late_policy("10%/day,cap=50%,grace=15m")
    assert p.penalty(-H) == 0 and p.penalty(dt.timedelta(0)) == 0
    assert p.penalty(dt.timedelta(minutes=14)) == 0  # within the grace
    assert p.penalty(dt.timedelta(minutes=16)) == 0.1  # beyond it: one started day, counted from the deadline
    assert p.penalty(dt.timedelta(days=1)) == 0.1 and p.penalty(dt.timedelta(days=1, seconds=1)) == 0.2
    assert p.penalty(dt.timedelta(days=3, hours=1)) == 0.4 and p.penalty(dt.timedelta(days=30)) == 0.5
    assert LatePolicy().penalty(dt.timedelta(days=9)) == 0  # without a policy late work is only marked


@pytest.mark.parametrize("text,word", [
    ("10/day", "percentage written with %"), ("0.1/day", "percentage written with %"),
    ("10%/sec", "period"), ("10%/fortnight", "period"), ("cap=50%", "no rate"), ("10%/day,cap=150%", "at most 100%"),
    ("10%/day,cap=0.5", "percentage written with %"), ("10%/day,grace=5x", "duration"), ("10%/day,10%/day", "twice"),
    ("ten percent", "cannot read"), ("", "expected"), ("10%/day,late=1", "cannot read"),
])
def test_a_bad_policy_is_refused_with_the_item_named(text, word):
    with pytest.raises(ValueError, match="--late-policy") as exc:
        parse_late_policy(text)
    assert word in str(exc.value)


def test_a_deadline_needs_iso_8601_and_a_time_zone():
    assert parse_time("2026-12-01T23:59+01:00") == DEADLINE
    assert parse_time("2026-12-01T22:59:00Z") == DEADLINE
    for bad, word in [("2026-12-01", "no time zone"), ("2026-12-01T23:59", "no time zone"),
                      ("tomorrow", "not an ISO 8601"), ("01/12/2026 23:59", "not an ISO 8601"),
                      ("2026-13-01T00:00Z", "not an ISO 8601")]:
        with pytest.raises(ValueError, match="--deadline") as exc:
            parse_time(bad)
        assert word in str(exc.value)
        if "zone" in word:
            assert "+01:00" in str(exc.value)  # says how to write one


def test_times_come_from_a_csv_or_canvas_submissions_json(tmp_path):
    f = tmp_path / "times.csv"
    f.write_text("\ufeffuser_id,submitted_at\n101,2026-12-02T10:00:00Z\n101,2026-12-03T10:00:00Z\n102,\n",
                 encoding="utf-8")
    assert read_times(f) == {"101": dt.datetime(2026, 12, 3, 10, tzinfo=UTC)}  # the latest; unsubmitted skipped
    j = tmp_path / "subs.json"
    j.write_text(json.dumps([{"user_id": 101, "submitted_at": "2026-12-02T10:00:00Z", "late": True},
                             {"user_id": 103, "submitted_at": None}]))
    assert read_times(j) == {"101": dt.datetime(2026, 12, 2, 10, tzinfo=UTC)}


@pytest.mark.parametrize("content,word", [
    ("who,when\n1,2026-12-02T10:00Z\n", "needs an id column"),
    ("id,submitted_at\n1,2026-12-02 10:00\n", "line 2"),
    ("id,submitted_at\n1,yesterday\n", "not an ISO 8601"),
    ("[{\"user_id\": 1,", "not valid JSON"),
])
def test_a_bad_times_file_is_named_with_its_line(tmp_path, content, word):
    f = tmp_path / "t.csv"
    f.write_text(content)
    with pytest.raises(ValueError, match="--times") as exc:
        read_times(f)
    assert word in str(exc.value)
    with pytest.raises(FileNotFoundError, match="--times"):
        read_times(tmp_path / "nope.csv")
    (tmp_path / "latin1.csv").write_bytes("id,submitted_at\nZo\xeb,2026-12-02T10:00Z\n".encode("latin-1"))
    with pytest.raises(ValueError, match="UTF-8"):
        read_times(tmp_path / "latin1.csv")


def _file(tmp_path, when: dt.datetime):
    f = tmp_path / "nb.ipynb"
    f.write_text("{}")
    os.utime(f, (when.timestamp(), when.timestamp()))
    return f


def test_the_time_sources_come_in_order_tag_website_file(tmp_path):
    pol = parse_late_policy("10%/day,cap=50%")
    f = _file(tmp_path, DEADLINE + dt.timedelta(days=2, hours=1))
    times = {"101": DEADLINE + dt.timedelta(hours=5)}
    # a Canvas name without LATE is on time, whatever the file's time says
    x = assess(DEADLINE, pol, f, False, ["101"], times, "--times t.csv")
    assert x.penalty == 0 and "without LATE" in x.source
    # LATE tag: how late comes from the website's time first ...
    x = assess(DEADLINE, pol, f, True, ["", "101"], times, "--times t.csv")
    assert x.penalty == 0.1 and x.late_by == dt.timedelta(hours=5) and "LATE tag" in x.source and "t.csv" in x.source
    # ... then from the file's modification time
    x = assess(DEADLINE, pol, f, True, ["999"], times)
    assert x.penalty == 0.3 and "modification time" in x.source
    # no tag (not a Canvas name): the website's time, else the file's
    assert assess(DEADLINE, pol, f, None, ["101"], times).penalty == 0.1
    assert assess(DEADLINE, pol, f, None, [], {}).penalty == 0.3
    on_time = _file(tmp_path, DEADLINE - H)
    assert assess(DEADLINE, pol, on_time, None, [], {}).penalty == 0


def test_a_late_tag_without_a_later_time_costs_one_period_unless_the_website_says_when(tmp_path):
    pol = parse_late_policy("10%/day,cap=50%,grace=1h")
    f = _file(tmp_path, DEADLINE - H)  # an unzip kept an early time
    x = assess(DEADLINE, pol, f, True, [], {})
    assert x.penalty == 0.1 and "one period charged" in x.source
    x = assess(DEADLINE, pol, f, True, ["7"], {"7": DEADLINE + dt.timedelta(minutes=30)})
    assert x.penalty == 0 and x.late_by == dt.timedelta(minutes=30)  # the website's exact time: within the grace
    x = assess(DEADLINE, pol, None, True, [], {})
    assert x.penalty == 0.1 and x.submitted_at is None


def test_apply_keeps_the_raw_score_beside_the_penalised_one():
    row = {"total": "7.5", "p1": "7.5"}
    apply_lateness(row, Lateness(DEADLINE + H, "--times t.csv", H, 0.2))
    assert row["raw_total"] == "7.5" and row["total"] == "6" and row["p1"] == "7.5"
    assert row["late_penalty"] == "20%" and row["late_by"] == "1.00 h" and row["time_source"] == "--times t.csv"
    assert row["submitted_at"].startswith("2026-12-02T00:59:00")


def test_every_submission_late_gives_a_loud_warning_naming_file_times():
    late = {s: Lateness(DEADLINE + 3 * H, "the file's modification time (...)", 3 * H, 0.1) for s in "ab"}
    warn = all_late_warning(late, DEADLINE)
    assert warn.startswith("WARNING") and "every one of the 2" in warn and "--times" in warn and "raw_total" in warn
    late["c"] = Lateness(DEADLINE - H, "--times", dt.timedelta(0), 0.0)
    assert all_late_warning(late, DEADLINE) is None
