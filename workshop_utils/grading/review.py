"""``workshop-grade review``: one page per written question for the instructor, and a manual CSV to fill in.

    workshop-grade review --store DIR --out REVIEW_DIR

For each written question of the store's day (:func:`~workshop_utils.grading.manual.written_questions`)
it writes ``REVIEW_DIR/<answer>.html``: every student's answer side by side with the
keyword first pass (points and message), the hand score and comment already kept in the
store, and empty cells for the rest; ``REVIEW_DIR/index.html`` links them; and
``REVIEW_DIR/manual.csv`` (UTF-8 with a BOM, so a spreadsheet reads accents) holds one row
per student and question: ``student, check, answer_id, first_pass, max_points, points,
comment``.  Fill in ``points`` (and ``comment``) and pass it back with
``workshop-grade regrade --store DIR --out new.csv --manual manual.csv``.  Each page can
also export its question's CSV from points typed into its table (:data:`EXPORT_SCRIPT`).

Answers are untrusted student text: escaped (:func:`~workshop_utils.grading.pages.esc`), cut
at :data:`MAX_ANSWER_CHARS`, on a page whose Content-Security-Policy allows its own export
script alone, by hash (:func:`~workshop_utils.grading.pages.script_csp`): no student text can run.
"""
from __future__ import annotations

import csv
import io
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from .._atomic import atomic_write_bytes, atomic_write_text
from .core import words
from .csvlog import csv_safe
from .manual import WrittenQuestion, answer_digest, export_answers, written_questions
from .pages import cap_text, esc, page
from .results import normalise_results

#: Characters of one answer shown on a review page (the rest is counted).
MAX_ANSWER_CHARS = 20_000
#: Columns of the manual CSV template, in order.
TEMPLATE_COLUMNS = ("student", "check", "answer_id", "first_pass", "max_points", "points", "comment")
REVIEW_STYLE = ("td.answer{min-width:30em;max-width:60em}td.answer pre{max-height:25em}input.pts{width:5em}"
                "input.cmt{width:16em}textarea{width:100%;font-family:monospace}")
#: The page's one script (the CSP allows it alone, by its hash): it reads the points and comments typed in
#: the table and the rows' data attributes, and writes the manual CSV into the text box and a download.
#: Student text reaches it only as strings (``dataset``), written into a CSV cell and ``textarea.value``:
#: never parsed as HTML, never run.
EXPORT_SCRIPT = r"""(function () {
  "use strict";
  function cell(v) {
    v = String(v);
    if (/^[=+\-@\t\r]/.test(v)) { v = "'" + v; }
    return /[",\r\n]/.test(v) ? '"' + v.replace(/"/g, '""') + '"' : v;
  }
  function build() {
    var lines = ["student,check,answer_id,first_pass,max_points,points,comment"];
    var rows = document.querySelectorAll("tr.ans");
    for (var i = 0; i < rows.length; i++) {
      var d = rows[i].dataset;
      var pts = rows[i].querySelector("input.pts").value, cmt = rows[i].querySelector("input.cmt").value;
      lines.push([d.student, d.check, d.answerId, d.firstPass, d.max, pts, cmt].map(cell).join(","));
    }
    return lines.join("\r\n") + "\r\n";
  }
  document.getElementById("export").addEventListener("click", function () {
    var text = build();
    document.getElementById("csv").value = text;
    var a = document.getElementById("download");
    a.href = URL.createObjectURL(new Blob(["\ufeff" + text], {type: "text/csv;charset=utf-8"}));
    a.hidden = false;
  });
})();
"""


def first_pass(record: dict, q: WrittenQuestion) -> tuple[float | None, str]:
    """The keyword first pass of question ``q`` in a stored record: (points or None, message)."""
    res = record.get("results")
    if not isinstance(res, dict):
        return None, f"the checks did not run: {res}" if res else "the checks did not run"
    pr = normalise_results(res).get(q.practice) or {}
    for r in pr.get("results") or []:
        if r.get("name") == q.check:
            return float(r.get("first_pass", r.get("earned", 0))), str(r.get("first_pass_message", r.get("message")))
    return None, "no result of this check"


def collect(store: Any) -> list[dict]:
    """One entry per stored student: ``student``, ``record`` (no code, no notebook), ``answers`` ({check: text})."""
    from .store import StoreError

    out = []
    tmp = Path(tempfile.mkdtemp(prefix="workshop-review-"))
    try:
        for i, sid in enumerate(store.students()):
            folder = tmp / f"s{i}"
            folder.mkdir()
            try:
                rec = store.get(sid, folder)
                answers = export_answers(store.day, folder)
            except StoreError as err:
                rec, answers = {"results": f"not in the store ({err})"}, {}
            rec.pop("executed", None)
            rec.pop("code", None)
            out.append({"student": sid, "record": rec, "answers": answers})
            shutil.rmtree(folder, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def question_page(q: WrittenQuestion, entries: list[dict], kept: dict) -> str:
    """The review page of one question (a complete HTML document).

    ``entries``: :func:`collect`'s; ``kept``: ``{(student, check): ManualScore}`` already in the store.
    """
    rows = []
    for n, e in enumerate(entries, 1):
        text = e["answers"].get(q.answer)
        fp, msg = first_pass(e["record"], q)
        k = kept.get((e["student"], q.answer))
        if isinstance(text, str):
            shown = f"<pre>{esc(cap_text(text, MAX_ANSWER_CHARS))}</pre><span class=\"muted\">{len(words(text)):,} " \
                    f"words; answer_id {answer_digest(text)}</span>"
        else:
            shown = "<span class=\"fail\">no answer</span>"
        data = {"student": e["student"], "check": q.answer, "answer-id": answer_digest(text),
                "first-pass": "" if fp is None else f"{fp:g}", "max": f"{q.points:g}"}
        rows.append(f"<tr class=\"ans\" {' '.join(f'data-{k}={chr(34)}{esc(v)}{chr(34)}' for k, v in data.items())}>"
                    f"<td>{n}</td><td>{esc(e['student'])}</td><td class=\"answer\">{shown}</td>"
                    f"<td>{data['first-pass']} / {q.points:g}<br><span class=\"muted\">{esc(msg)}</span></td>"
                    f"<td><input class=\"pts\" type=\"number\" min=\"0\" max=\"{q.points:g}\" step=\"any\" "
                    f"value=\"{'' if k is None else f'{k.points:g}'}\" aria-label=\"points\"></td>"
                    f"<td><input class=\"cmt\" type=\"text\" value=\"{'' if k is None else esc(k.comment)}\" "
                    "aria-label=\"comment\"></td></tr>")
    body = (f"<h1>Day {q.day}, practice {q.practice} ({esc(q.title)}): <code>{esc(q.answer)}</code></h1>"
            f"<p>The question: {esc(q.prompt)}. Up to {q.points:g} point(s). The first pass is the keyword check "
            f"<em>{esc(q.check)}</em>; a hand score in <code>manual.csv</code> (check <code>{esc(q.answer)}</code>) "
            "replaces it. Student text is shown as text: nothing in it runs.</p>"
            f"<p class=\"muted\">{len(entries)} students. The last two columns hold the hand scores already kept "
            "in the store. Fill in <code>manual.csv</code> (next to this page), or type the points here and "
            "export this question's CSV (this page's one script: it runs nothing of the students').</p>"
            "<table><tr><th>#</th><th>student</th><th>answer</th><th>first pass</th><th>points</th>"
            "<th>comment</th></tr>" + "".join(rows) + "</table>"
            "<p><button type=\"button\" id=\"export\">Export the points as CSV</button> "
            f"<a id=\"download\" download=\"manual-{esc(q.answer)}.csv\" hidden>download "
            f"manual-{esc(q.answer)}.csv</a></p><textarea id=\"csv\" rows=\"6\" readonly "
            "aria-label=\"the exported CSV\"></textarea>")
    return page(f"Day {q.day} review: {q.answer}", body, REVIEW_STYLE, EXPORT_SCRIPT)


def template_csv(questions: list[WrittenQuestion], entries: list[dict], kept: dict) -> bytes:
    """The manual CSV to fill in (UTF-8 with a BOM): one row per question and student, hand scores kept."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(TEMPLATE_COLUMNS)
    for q in questions:
        for e in entries:
            fp, _ = first_pass(e["record"], q)
            k = kept.get((e["student"], q.answer))
            w.writerow([csv_safe(c) for c in (
                e["student"], q.answer, answer_digest(e["answers"].get(q.answer)), "" if fp is None else f"{fp:g}",
                f"{q.points:g}", "" if k is None else f"{k.points:g}", "" if k is None else k.comment)])
    return buf.getvalue().encode("utf-8-sig")


def write_review(store: str | os.PathLike, out: str | os.PathLike, accept_version: bool = False) -> list[Path]:
    """Write the review pages, their index and the manual CSV template of ``store`` into the folder ``out``.

    Parameters
    ----------
    store : str or Path
        The grading store (``workshop-grade ... --store DIR``).
    out : str or Path
        The folder to write (created if needed).
    accept_version : bool
        Accept a store written by another package version.

    Returns
    -------
    list of Path
        The pages (one per written question), then ``index.html`` and ``manual.csv``.

    Raises
    ------
    FileExistsError
        ``out/manual.csv`` exists (it may hold scores not applied yet): nothing is written.
    StoreError
        Not a store, or one changed since grading.
    """
    from .feedback import check_writable
    from .store import StoreError, open_store

    st = open_store(store, accept_version=accept_version)
    bad = [b for b in st.verify() if "checksum" in b]
    if bad:
        raise StoreError(f"store {store}: changed since grading: " + "; ".join(bad[:5]))
    out = Path(out)
    if (out / "manual.csv").exists():
        raise FileExistsError(f"review: {out / 'manual.csv'} exists (it may hold scores you filled in): apply it with "
                              "workshop-grade regrade --manual, then write the review into another folder")
    check_writable(out, "review --out")
    questions = written_questions(st.day)
    entries = collect(st)
    kept = st.manual_scores()
    paths = [atomic_write_text(out / f"{q.answer}.html", question_page(q, entries, kept)) for q in questions]
    links = "".join(f"<li><a href=\"{esc(q.answer)}.html\">practice {q.practice}: {esc(q.answer)}</a> &mdash; "
                    f"{esc(q.prompt)}</li>" for q in questions)
    paths.append(atomic_write_text(out / "index.html", page(
        f"Day {st.day} written answers", f"<h1>Day {st.day}: written answers of {len(entries)} students</h1>"
        f"<ul>{links}</ul><p>Fill in <code>manual.csv</code> (points, comment), then run <code>workshop-grade "
        "regrade --store ... --out ... --manual manual.csv</code>.</p>")))
    paths.append(atomic_write_bytes(out / "manual.csv", template_csv(questions, entries, kept)))
    return paths


def main(argv: list[str] | None = None) -> int:
    """``workshop-grade review``; exit code 0, or 2 on error."""
    import argparse

    from .store import StoreError

    ap = argparse.ArgumentParser(prog="workshop-grade review", description=__doc__.split("\n\n")[0])
    ap.add_argument("--store", required=True, help="the store of a grading run (workshop-grade ... --store DIR)")
    ap.add_argument("--out", required=True, help="folder for the pages and manual.csv (created)")
    ap.add_argument("--accept-version", action="store_true", help="read a store written by another version")
    args = ap.parse_args(argv)
    try:
        paths = write_review(args.store, args.out, accept_version=args.accept_version)
    except (OSError, ValueError, StoreError) as err:
        print(f"workshop-grade review: error: {err}", file=sys.stderr)
        return 2
    print(f"workshop-grade review: wrote {len(paths) - 2} pages, index.html and manual.csv to {args.out}",
          file=sys.stderr)
    return 0
