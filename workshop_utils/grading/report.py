"""The class report: one self-contained HTML page for the instructor.

``workshop-grade ... --report class.html`` writes it after grading;
``workshop-grade report --csv grades.csv [--store DIR] --out class.html`` writes it from
an existing CSV (and the store, for what the CSV does not hold).  It shows:

* the score distribution per practice and in total (matplotlib, embedded PNG);
* the pass rate of every check (from the store's check results), hardest first within a practice;
* the statuses (how many ran to the end, hit a limit, crashed);
* time and peak memory per submission (the CSV's ``seconds`` and ``peak_mb`` columns, or
  the store), with the slowest and the largest;
* similar submissions (:mod:`workshop_utils.grading.similarity`: token winnowing, the
  template's code ignored), with the shared lines.

Student ids, statuses, reasons and code are untrusted: escaped; the page has no script
(:mod:`workshop_utils.grading.pages`).
"""
from __future__ import annotations

import csv
import io
import os
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from .._atomic import atomic_write_text
from .pages import esc, figure_png, image_tag, page, pyplot
from .practices import PRACTICES
from .results import normalise_results

#: Columns every workshop-grade CSV has (then p1 ... p5).
REQUIRED_COLUMNS = ("student", "total", "max", "status", "reasons")
#: Largest CSV read (bytes).
MAX_CSV_BYTES = 200_000_000


def read_grades(path: str | os.PathLike) -> list[dict[str, str]]:
    """The rows of a ``workshop-grade`` CSV.

    Raises
    ------
    FileNotFoundError
        No such file.
    ValueError
        An empty file, a CSV without the grader's columns (a foreign CSV), or one without rows.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"report: no such CSV file {path}")
    if path.stat().st_size > MAX_CSV_BYTES:
        raise ValueError(f"report: {path} is larger than {MAX_CSV_BYTES:,} bytes")
    text = path.read_bytes().decode("utf-8", "replace")
    if not text.strip():
        raise ValueError(f"report: {path} is empty: grade a class first (workshop-grade SUBMISSIONS --out {path})")
    reader = csv.DictReader(io.StringIO(text))
    cols = reader.fieldnames or []
    missing = [c for c in (*REQUIRED_COLUMNS, "p1") if c not in cols]
    if missing:
        raise ValueError(f"report: {path} is not a workshop-grade CSV (no column {', '.join(missing)}; it has "
                         f"{', '.join(cols[:8]) or 'no header'})")
    rows = [r for r in reader if r.get("student")]
    if not rows:
        raise ValueError(f"report: {path} has the grader's columns but no rows")
    return rows


def _num(x: Any) -> float | None:
    try:
        v = float(str(x).lstrip("'"))
    except (TypeError, ValueError):
        return None
    return v if np.isfinite(v) else None


def _status_kind(status: str) -> str:
    s = str(status).lower().lstrip("'")
    for key, word in (("time limit", "time limit"), ("memory limit", "memory limit"), ("kernel died", "kernel died"),
                      ("not a readable notebook", "not a notebook"), ("grader error", "grader error"),
                      ("too large", "output too large"), ("sandbox ended", "sandbox ended without a result"),
                      ("checks", "checks failed")):
        if key in s:
            return word
    return "ok" if s.startswith("ok") else "other"


def score_figure(rows: list[dict], day: int) -> bytes:
    """PNG: histograms of every practice's points and of the total."""
    plt = pyplot()
    cols = [f"p{p.number}" for p in PRACTICES[day]] + ["total"]
    fig, axes = plt.subplots(1, len(cols), figsize=(2.3 * len(cols), 2.4))
    for ax, c in zip(axes, cols):
        v = [x for x in (_num(r.get(c)) for r in rows) if x is not None]
        top = 10.0 if c != "total" else max([10.0 * len(PRACTICES[day])] + v)
        ax.hist(v, bins=np.linspace(0, top, 11), color="#4c72b0", edgecolor="white")
        ax.set_title(c if c != "total" else "total", fontsize=9)
        ax.set_xlabel("points", fontsize=8)
        ax.tick_params(labelsize=7)
    axes[0].set_ylabel("submissions", fontsize=8)
    fig.tight_layout()
    return figure_png(fig)


def pass_rates(records: dict[str, dict], day: int) -> list[dict]:
    """Per check: practice, name, points, hidden, passed / graded (skipped checks not counted).

    ``records``: ``{student: record}`` with ``results`` as the grader's checks return them.
    """
    table: dict[tuple, dict] = {}
    for rec in records.values():
        res = rec.get("results")
        if not isinstance(res, dict):
            continue
        for number, pr in sorted(normalise_results(res).items()):
            for r in pr.get("results") or []:
                if r.get("skipped"):
                    continue
                e = table.setdefault((number, r["name"]), {"practice": number, "name": r["name"],
                                                          "points": r["points"], "hidden": bool(r.get("hidden")),
                                                          "private": bool(r.get("private")), "passed": 0, "n": 0})
                e["n"] += 1
                e["passed"] += bool(r.get("passed"))
    out = list(table.values())
    out.sort(key=lambda e: (e["practice"], e["passed"] / max(1, e["n"]), e["name"]))
    return out


def _table(head: list[str], rows: list[list[str]]) -> str:
    return ("<table><tr>" + "".join(f"<th>{esc(h)}</th>" for h in head) + "</tr>"
            + "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows) + "</table>")


def class_report(rows: list[dict], day: int, records: dict[str, dict] | None = None,
                 template: list[str] | None = None, threshold: float = 0.5, top: int = 5) -> str:
    """The class report (a complete HTML page).

    Parameters
    ----------
    rows : list of dict
        The CSV's rows (:func:`read_grades`).
    day : int
        The homework day.
    records : dict, optional
        ``{student: stored record}`` (:meth:`~workshop_utils.grading.store.Store.get`): check
        results, seconds, peak memory, code cells.
    template : list of str, optional
        The template's code cells (ignored by the similarity).
    threshold : float
        Smallest similarity of a reported pair.
    top : int
        How many slowest / largest submissions are listed.
    """
    from .similarity import similar_pairs

    if day not in PRACTICES:
        raise ValueError(f"class_report: day must be one of {sorted(PRACTICES)}, got {day!r}")
    records = records or {}
    n = len(rows)
    totals = [x for x in (_num(r.get("total")) for r in rows) if x is not None]
    body = [f"<h1>Day {day} homework: class report</h1>",
            f"<p>{n} submissions; total points: mean {np.mean(totals):.1f}, median {np.median(totals):g}, "
            f"min {min(totals):g}, max {max(totals):g} (of {esc(rows[0].get('max', '?'))}).</p>" if totals else
            f"<p>{n} submissions.</p>"]

    body.append("<h2>Score distribution</h2>" + image_tag(score_figure(rows, day), "score histograms"))
    stats = []
    for p in PRACTICES[day]:
        v = [x for x in (_num(r.get(f"p{p.number}")) for r in rows) if x is not None]
        if v:
            stats.append([f"p{p.number}", esc(p.title), f"{np.mean(v):.2f}", f"{np.median(v):g}",
                          f"{sum(x >= 10 for x in v)}"])
    body.append(_table(["practice", "title", "mean", "median", "full marks"], stats))

    body.append("<h2>Pass rate of every check</h2>")
    rates = pass_rates(records, day)
    if rates:
        body.append(_table(["practice", "check", "points", "passed", "pass rate"], [
            [f"p{e['practice']}", esc(e["name"]) + (" <em>(hidden)</em>" if e["hidden"] else "")
             + (" <em>(private data)</em>" if e["private"] else ""), f"{e['points']:g}", f"{e['passed']}/{e['n']}",
             ("<strong>" if e["passed"] / e["n"] < 0.5 else "") + f"{e['passed'] / e['n']:.0%}"
             + ("</strong>" if e["passed"] / e["n"] < 0.5 else "")] for e in rates]))
    else:
        body.append("<p class=\"muted\">No check results: grade with --store DIR (or pass --store) to see them.</p>")

    body.append("<h2>Statuses</h2>")
    kinds = Counter(_status_kind(r.get("status", "")) for r in rows)
    body.append(_table(["status", "submissions"], [[esc(k), str(v)] for k, v in kinds.most_common()]))
    odd = [r for r in rows if _status_kind(r.get("status", "")) != "ok"]
    if odd:
        body.append(_table(["student", "status"], [[esc(r["student"]), esc(r.get("status", ""))[:400]] for r in odd]))

    body.append("<h2>Time and peak memory</h2>")
    res_rows = []
    for r in rows:
        rec = records.get(r["student"].lstrip("'")) or records.get(r["student"]) or {}
        sec = _num(r.get("seconds")) if r.get("seconds") not in (None, "") else _num(rec.get("seconds"))
        mb = _num(r.get("peak_mb")) if r.get("peak_mb") not in (None, "") else _num(rec.get("peak_mb"))
        res_rows.append((r["student"], sec, mb, r.get("total", ""), r.get("status", "")))
    if any(s is not None or m is not None for _, s, m, _, _ in res_rows):
        def fmt(x, f):
            return "" if x is None else format(x, f)

        slow = sorted((x for x in res_rows if x[1] is not None), key=lambda x: -x[1])[:top]
        large = sorted((x for x in res_rows if x[2] is not None), key=lambda x: -x[2])[:top]
        body.append(f"<h3>Slowest {len(slow)}</h3>" + _table(["student", "seconds", "status"],
                    [[esc(s), fmt(t, ".1f"), esc(st)[:200]] for s, t, _, _, st in slow]))
        body.append(f"<h3>Largest {len(large)} (peak memory)</h3>" + _table(["student", "peak MiB", "status"],
                    [[esc(s), fmt(m, ".0f"), esc(st)[:200]] for s, _, m, _, st in large]))
        body.append("<h3>Every submission</h3>" + _table(["student", "seconds", "peak MiB", "total"],
                    [[esc(s), fmt(t, ".1f"), fmt(m, ".0f"), esc(tot)] for s, t, m, tot, _ in res_rows]))
    else:
        body.append("<p class=\"muted\">This CSV has no seconds / peak_mb columns and there is no store.</p>")

    body.append("<h2>Similar submissions</h2>")
    code = {s: rec.get("code") or [] for s, rec in records.items() if rec.get("code")}
    if len(code) >= 2:
        pairs = similar_pairs(code, template, threshold=threshold)
        body.append(f"<p class=\"muted\">Token winnowing (k = 25 tokens, window 4; names, strings and numbers "
                    f"normalised) over {len(code)} submissions' code cells, the template's code removed; pairs "
                    f"sharing at least {threshold:.0%} of the smaller one's fingerprints.</p>")
        if not pairs:
            body.append("<p>No pair above the threshold.</p>")
        for pr in pairs[:50]:
            body.append(f"<h3>{esc(pr.a)} &amp; {esc(pr.b)}: {pr.similarity:.0%} "
                        f"({pr.shared} shared fingerprints)</h3>"
                        f"<table><tr><th>{esc(pr.a)}</th><th>{esc(pr.b)}</th></tr><tr>"
                        f"<td><pre>{esc(chr(10).join(pr.lines_a))}</pre></td>"
                        f"<td><pre>{esc(chr(10).join(pr.lines_b))}</pre></td></tr></table>")
    else:
        body.append("<p class=\"muted\">Needs the store's code cells of at least two submissions (--store).</p>")
    return page(f"Day {day} class report", "\n".join(body))


def template_code(day: int, path: str | os.PathLike | None = None) -> list[str]:
    """The code cells of the homework template (``homework/day{day}_homework.ipynb`` of the repository).

    Returns [] when no template is found (the similarity then counts the template's code too).
    """
    import nbformat

    if path is None:
        path = Path(__file__).resolve().parents[2] / "homework" / f"day{day}_homework.ipynb"
    path = Path(path)
    if not path.is_file():
        if path.name != f"day{day}_homework.ipynb":
            raise FileNotFoundError(f"report: no such template {path}")
        return []
    nb = nbformat.read(path, as_version=4)
    return ["".join(c.source) if isinstance(c.source, list) else c.source for c in nb.cells if c.cell_type == "code"]


def write_report(out: str | os.PathLike, csv_path: str | os.PathLike, store: str | os.PathLike | None = None,
                 day: int | None = None, template: str | os.PathLike | None = None, accept_version: bool = False,
                 threshold: float = 0.5) -> Path:
    """Write the class report of ``csv_path`` (and the store) to ``out`` (atomically); returns ``out``.

    ``day`` is read from the store when omitted; without a store it must be given.

    Raises
    ------
    ValueError
        Empty or foreign CSV; no day; a store of another day (:class:`~.store.StoreError`).
    """
    from .store import open_store

    rows = read_grades(csv_path)
    records: dict[str, dict] = {}
    if store is not None:
        st = open_store(store, day=day, accept_version=accept_version)
        day = st.day
        for sid in st.students():
            rec = st.get(sid)
            rec.pop("executed", None)
            records[sid] = rec
        unknown = [r["student"] for r in rows
                   if r["student"] not in records and r["student"].lstrip("'") not in records]
        if len(unknown) == len(rows):
            raise ValueError(f"report: none of the {len(rows)} students of {csv_path} is in the store {store}: "
                             "is it the store of another class?")
    if day is None:
        raise ValueError("report: pass --day (or --store, which knows its day)")
    html = class_report(rows, day, records, template_code(day, template), threshold=threshold)
    return atomic_write_text(Path(out), html)
