"""Feedback for a student: one self-contained HTML page and a short plain-text version per submission.

``workshop-grade ... --feedback DIR`` (and ``workshop-grade regrade ... --feedback DIR``)
writes ``DIR/<student>.html`` and ``DIR/<student>.txt``.  The page holds:

* every practice with its points, and each check's result, its reason and, when it
  failed, the hint;
* how the run ended (time limit, memory limit, the cells that raised);
* for the private-probe checks, what the grader measured (``torch_model's AUROC on 4,000
  sequences you never saw: 0.712; at least 0.8 earns the points``), never the labels;
* figures where they help: the model's ROC curve on the probe next to a curve at the bar,
  and (Day 2) one probe positive's attribution profile with the planted site marked;
* the student's executed notebook, sanitised (:func:`~workshop_utils.grading.pages.render_notebook`).

A written answer scored by the instructor (``--manual``, :mod:`workshop_utils.grading.manual`)
shows their points and comment, and the automatic first pass beside them.
A hidden check shows only its points and a neutral line.  The page has no script and a
strict Content-Security-Policy (:mod:`workshop_utils.grading.pages`).
"""
from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from .._atomic import atomic_write_text
from .pages import esc, figure_png, image_tag, page, pyplot, render_notebook
from .practices import PRACTICES
from .results import normalise_results

#: Characters of the plain-text feedback at most (a course website's comment box).
MAX_TEXT_CHARS = 3000
#: Thresholds that a measured value must reach ("at least X earns the points"); the others are tolerances.
AT_LEAST = {"learned", "learned_p4", "child_learned", "baseline_floor", "ism_sites", "ig_sites", "peak_ratio",
            "ig_ism_agree"}
HIDDEN_LINE = "A hidden check of this practice (the instructor's own test; its details are not shown)."
#: Length of the planted site marked on the attribution figure (the CTCF motif, MA0139.1).
SITE_LENGTH = 19


def feedback_filename(student: str) -> str:
    """A file name (without extension) for ``student``: its safe characters and a short digest of the id."""
    if not isinstance(student, str) or not student:
        raise ValueError(f"feedback_filename: student must be a non-empty str, got {student!r}")
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", student).strip("._")[:60] or "student"
    return f"{safe}-{hashlib.sha256(student.encode('utf-8')).hexdigest()[:8]}"


def check_writable(folder: str | os.PathLike, what: str = "--feedback") -> Path:
    """Create ``folder`` if needed and prove it is writable (a file is written and removed); returns it.

    Raises
    ------
    OSError
        With a message naming ``what`` and the folder, before any submission runs.
    """
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as err:
        raise OSError(f"{what}: cannot write to {folder} ({err.strerror or err}); choose a writable folder") from None
    return folder


# ------------------------------------------------------------------ words
def _limit_words(m: dict) -> str:
    name, v = m.get("name", ""), m["value"]
    if name in AT_LEAST:
        return f"at least {v:g} earns the points"
    return f"the points allow a difference of up to {v:g}"


def measured_lines(result: dict) -> list[str]:
    """What the grader measured in one check, in words (no labels)."""
    out, limits = [], [m for m in result.get("measured") or [] if m.get("kind") == "limit"]
    for m in result.get("measured") or []:
        kind, v = m.get("kind"), m.get("value")
        if kind == "auroc":
            out.append(f"{m.get('model', 'the model')}'s AUROC on {int(m.get('n', 0)):,} sequences you never saw: "
                       f"{v:.3f}")
        elif kind == "recovery":
            out.append(f"{m.get('model', 'the model')}'s {str(m.get('method', '')).upper()} puts its top window on "
                       f"the planted site for {v:.0%} of {int(m.get('n', 0))} positives you never saw")
        elif kind == "peak_ratio":
            out.append(f"{m.get('model', 'the model')}'s mean peak |ISM| on positives over negatives you never saw: "
                       f"{v:.2f}")
        elif kind != "limit":
            out.append(f"{kind}: {v:.4g}")
    if out and limits:
        out[-1] += "; " + "; ".join(_limit_words(m) for m in limits)
    return out


def reason_words(result: dict) -> str:
    """The check's message, in the student's words where the grader's are terse."""
    msg = str(result.get("message", ""))
    if msg.startswith("missing: "):
        parts = list(dict.fromkeys(msg[len("missing: "):].split("; ")))  # one line per distinct reason
        return "Not found in your notebook: " + "; ".join(parts)
    if msg.startswith("could not be checked"):
        return "Your value could not be checked: " + msg[len("could not be checked "):].strip("()")
    return msg


def _results(record: dict) -> dict[int, dict]:
    res = record.get("results")
    return normalise_results(res) if isinstance(res, dict) else {}


def _status_items(record: dict) -> list[str]:
    status = str(record.get("status") or record.get("row", {}).get("status") or "")
    items = []
    if status and status != "ok":
        low = status.lower()
        if "time limit" in low:
            items.append(f"Your notebook ran out of time: {status}.")
        elif "memory limit" in low:
            items.append(f"Your notebook used too much memory: {status}.")
        elif "kernel died" in low:
            items.append(f"The Python kernel stopped: {status}.")
        else:
            items.append(f"How the run ended: {status}.")
    for e in record.get("errors") or []:
        items.append(f"A cell raised an error: {e}")
    if isinstance(record.get("results"), str):
        items.append(f"The checks could not run: {record['results']}")
    return items


# ------------------------------------------------------------------ figures
def _bar_for(result: dict) -> float | None:
    for m in result.get("measured") or []:
        if m.get("kind") == "limit" and m.get("name") in AT_LEAST and m.get("name") not in (
                "ism_sites", "ig_sites", "peak_ratio", "ig_ism_agree"):
            return float(m["value"])
    return None


def roc_figure(y: np.ndarray, scores: np.ndarray, model: str, bar: float | None) -> bytes:
    """PNG: the ROC curve of ``scores`` (N,) against labels ``y`` (N,), and a curve at AUROC ``bar``.

    The bar's curve is the equal-variance binormal ROC with that AUROC
    (TPR = Phi(d + Phi^-1(FPR)), d = sqrt(2) Phi^-1(bar)): what a model just at the bar looks like.
    """
    from scipy.stats import norm
    from sklearn.metrics import roc_auc_score, roc_curve

    plt = pyplot()
    fpr, tpr, _ = roc_curve(y, scores)
    auc = float(roc_auc_score(y, scores))
    fig, ax = plt.subplots(figsize=(4.2, 4))
    ax.plot(fpr, tpr, lw=2, label=f"{model}: AUROC {auc:.3f}")
    if bar is not None and 0.5 < bar < 1:
        f = np.linspace(1e-4, 1 - 1e-4, 200)
        d = np.sqrt(2) * norm.ppf(bar)
        ax.plot(f, norm.cdf(d + norm.ppf(f)), "--", color="gray", label=f"a model at the bar: AUROC {bar:g}")
    ax.plot([0, 1], [0, 1], ":", color="lightgray", label="chance: 0.5")
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title(f"{model} on {len(y):,} sequences you never saw")
    ax.legend(loc="lower right", fontsize=8)
    return figure_png(fig)


def attribution_figure(attr: np.ndarray, site_start: int, model: str, method: str) -> bytes:
    """PNG: one sequence's attribution profile ``|attr|.max(-1)`` ((L, 4) -> (L,)) with the planted site shaded."""
    plt = pyplot()
    prof = np.abs(np.asarray(attr, dtype=np.float64)).max(-1)
    fig, ax = plt.subplots(figsize=(7, 2.6))
    ax.plot(np.arange(len(prof)), prof, lw=1)
    ax.axvspan(site_start, site_start + SITE_LENGTH, color="orange", alpha=0.35, label="where the site was planted")
    top = int(np.argmax(np.convolve(prof, np.ones(SITE_LENGTH), "valid")))
    ax.axvspan(top, top + SITE_LENGTH, fill=False, edgecolor="green", lw=1.5,
               label=f"your model's top {SITE_LENGTH}-nt window")
    ax.set_xlabel("position (nt)")
    ax.set_ylabel(f"|{method.upper()}| (max over bases)")
    ax.set_title(f"{model}: {method.upper()} of one positive sequence you never saw")
    ax.legend(loc="upper right", fontsize=8)
    return figure_png(fig)


def probe_figures(record: dict, values: dict | None, probe_ref: dict | None) -> dict[tuple, tuple[str, bytes]]:
    """Figures for the private checks: ``{(practice, check name): (caption, png)}``.

    ``values``: ``{practice number: exported values}`` (:func:`workshop_utils.grading.export.load_practice`);
    ``probe_ref``: the grader's ``ref["probe"]`` (labels stay in the grader: only curves are drawn).
    One ROC figure per model and one attribution figure per (model, method).
    """
    if not values or not probe_ref:
        return {}
    out, seen = {}, set()
    for number, res in _results(record).items():
        vals = values.get(number) or {}
        for r in res.get("results") or []:
            if r.get("hidden") or not r.get("private"):
                continue
            for m in r.get("measured") or []:
                model = m.get("model")
                exp = vals.get(model) if model else None
                if not isinstance(exp, dict):
                    continue
                try:
                    if m.get("kind") == "auroc" and ("roc", model) not in seen and "probe_scores" in exp:
                        s = np.asarray(exp["probe_scores"], dtype=np.float64).reshape(-1)[: int(m["n"])]
                        y = np.asarray(probe_ref["y"])[: len(s)]
                        seen.add(("roc", model))
                        out[(number, r["name"])] = (f"ROC curve of {model} on the grader's private sequences",
                                                    roc_figure(y, s, model, _bar_for(r)))
                    elif m.get("kind") == "recovery" and ("attr", model, m.get("method")) not in seen:
                        a = np.asarray(exp.get(f"probe_{m.get('method')}"), dtype=np.float64)
                        n = len(a)
                        y, start = np.asarray(probe_ref["y"])[:n], np.asarray(probe_ref["site_start"])[:n]
                        idx = np.where((y == 1) & (start >= 0))[0]
                        if a.ndim == 3 and len(idx):
                            seen.add(("attr", model, m.get("method")))
                            i = int(idx[0])
                            out[(number, r["name"])] = (
                                f"{str(m.get('method')).upper()} of {model} on one private positive sequence",
                                attribution_figure(a[i], int(start[i]), model, str(m.get("method"))))
                except Exception:  # noqa: BLE001 - a malformed export: no figure, the words stay
                    continue
    return out


# ------------------------------------------------------------------ the page
def _check_row(r: dict) -> str:
    if r.get("hidden"):
        mark = "<span class=\"pass\">passed</span>" if r.get("passed") else "<span class=\"fail\">not passed</span>"
        return (f"<tr><td>{mark}</td><td>{r['earned']:g} / {r['points']:g}</td><td>hidden check</td>"
                f"<td class=\"muted\">{esc(HIDDEN_LINE)}</td></tr>")
    if r.get("manual"):  # a written answer the instructor read: their points and comment, the first pass beside
        return (f"<tr><td><span class=\"pass\">read by your instructor</span></td><td>{r['earned']:g} / "
                f"{r['points']:g}</td><td>{esc(r['name'])}</td><td>{esc(r.get('message', ''))}<br><span "
                f"class=\"muted\">Automatic first pass: {float(r.get('first_pass', 0)):g} / {r['points']:g} "
                f"({esc(r.get('first_pass_message', ''))})</span></td></tr>")
    if r.get("skipped"):
        mark = "<span class=\"skip\">not run</span>"
    elif r.get("passed"):
        mark = "<span class=\"pass\">passed</span>"
    else:
        mark = "<span class=\"fail\">failed</span>"
    private = r.get("private") and "private" not in r["name"]
    name = esc(r["name"]) + (" <span class=\"muted\">(private data)</span>" if private else "")
    why = esc(reason_words(r))
    for line in measured_lines(r):
        why += f"<br><span class=\"measured\">Measured by the grader: {esc(line)}</span>"
    if not r.get("passed") and not r.get("skipped") and r.get("hint"):
        why += f"<br><span class=\"hint\">Hint: {esc(r['hint'])}</span>"
    return f"<tr><td>{mark}</td><td>{r['earned']:g} / {r['points']:g}</td><td>{name}</td><td>{why}</td></tr>"


def feedback_html(record: dict, values: dict | None = None, probe_ref: dict | None = None,
                  executed: Any = None) -> str:
    """The feedback page of one submission (a complete, self-contained HTML document).

    Parameters
    ----------
    record : dict
        ``student``, ``day``, ``status``, ``errors``, ``results`` (per practice, as the
        grader's checks return them, or a str why they did not run), ``row`` (the CSV row).
    values : dict, optional
        ``{practice number: exported values}`` for the figures.
    probe_ref : dict, optional
        The grader's ``ref["probe"]`` for the figures.
    executed : bytes or dict, optional
        The executed notebook, rendered (sanitised) below the results.
    """
    day = int(record["day"])
    student = str(record["student"])
    results = _results(record)
    figs = probe_figures(record, values, probe_ref)
    row = record.get("row") or {}
    total = sum(r["earned"] for res in results.values() for r in res.get("results") or [])
    possible = sum(r["points"] for res in results.values() for r in res.get("results") or [] if not r.get("skipped"))
    body = [f"<h1>Day {day} homework: feedback for {esc(student)}</h1>",
            f"<p><strong>Total: {esc(row.get('total', f'{total:g}'))} / {esc(row.get('max', f'{possible:g}'))}"
            "</strong> points.</p>"]
    if _late_line(row):
        body.append(f"<p>{esc(_late_line(row))}</p>")
    items = _status_items(record)
    if items:
        body.append("<div class=\"status\"><strong>How your notebook ran</strong><ul>"
                    + "".join(f"<li>{esc(i)}</li>" for i in items) + "</ul></div>")
    else:
        body.append("<div class=\"status ok\">Your notebook ran to the end without errors.</div>")
    for p in PRACTICES[day]:
        res = results.get(p.number) or {"results": [], "unexported": "the checks did not run"}
        rs = res.get("results") or []
        earned = sum(r["earned"] for r in rs)
        pts = sum(r["points"] for r in rs) or sum(c.points for c in p.checks)
        body.append(f"<h2>Practice {p.number}: {esc(p.title)} &mdash; {earned:g} / {pts:g}</h2>")
        if res.get("unexported"):
            body.append(f"<p class=\"fail\">Nothing of this practice reached the grader: {esc(res['unexported'])}. "
                        + ("Every automatic check of it earns 0.</p>" if any(r.get("manual") for r in rs) else
                           "Every check of it earns 0.</p>"))
        if rs:
            body.append("<table><tr><th>result</th><th>points</th><th>check</th><th>why</th></tr>"
                        + "".join(_check_row(r) for r in rs) + "</table>")
        for r in rs:
            if (p.number, r["name"]) in figs:
                cap, png = figs[(p.number, r["name"])]
                body.append(f"<figure>{image_tag(png, cap)}"
                            f"<figcaption class=\"muted\">{esc(cap)}</figcaption></figure>")
    body.append("<h2>Your notebook, as the grader ran it</h2>")
    if executed is not None:
        body.append("<p class=\"muted\">Shown as text; nothing in it runs in this page.</p>"
                    + render_notebook(executed))
    else:
        body.append("<p class=\"muted\">The executed notebook did not come back from the grader's sandbox.</p>")
    return page(f"Day {day} feedback: {student}", "\n".join(body))


def _late_line(row: dict) -> str:
    """Why the total is below the practices' sum, for a row graded with ``--deadline`` ('' otherwise)."""
    if "raw_total" not in row or str(row.get("late_penalty", "")).strip() in ("", "0%"):
        return ""
    late_by = f" by {row['late_by']}" if row.get("late_by") else ""
    return (f"Submitted late{late_by} ({row.get('time_source', 'time source unknown')}): the late policy takes "
            f"{row['late_penalty']} off the checks' {row['raw_total']} points.")


def feedback_text(record: dict, max_chars: int = MAX_TEXT_CHARS) -> str:
    """The plain-text feedback: the total, how the run ended, each lost point with its reason and hint."""
    if isinstance(max_chars, bool) or not isinstance(max_chars, int) or max_chars < 200:
        raise ValueError(f"feedback_text: max_chars must be an int >= 200, got {max_chars!r}")
    day = int(record["day"])
    results = _results(record)
    row = record.get("row") or {}
    lines = [f"Day {day} homework: {row.get('total', '?')} / {row.get('max', '?')} points."]
    lines += [_late_line(row)] if _late_line(row) else []
    lines += _status_items(record)
    for p in PRACTICES[day]:
        res = results.get(p.number) or {"results": [], "unexported": "the checks did not run"}
        rs = res.get("results") or []
        earned, pts = sum(r["earned"] for r in rs), sum(r["points"] for r in rs)
        lines.append(f"Practice {p.number} ({earned:g}/{pts:g}):")
        if res.get("unexported"):  # one reason for every point of the practice
            lines[-1] += f" nothing reached the grader: {res['unexported']}"
            lines += [f"  - {r['name']}: {r['message'][:300]}" for r in rs if r.get("manual")]
            continue
        lost = [r for r in rs if (r["earned"] < r["points"] or r.get("manual") and r.get("comment"))
                and not r.get("skipped")]  # with every comment of the instructor
        if not lost:
            lines[-1] += " all checks passed."
        for r in lost:
            if r.get("hidden"):
                lines.append(f"  - hidden check (-{r['points'] - r['earned']:g}): not passed.")
                continue
            why = reason_words(r)[:220]
            meas = measured_lines(r)
            if meas:
                why += " [" + "; ".join(meas)[:200] + "]"
            lines.append(f"  - {r['name']} (-{r['points'] - r['earned']:g}): {why}")
            if r.get("hint") and not r.get("manual"):
                lines.append(f"    Hint: {r['hint'][:200]}")
    text = "\n".join(lines) + "\n"
    if len(text) > max_chars:
        tail = "\n... (the rest is on your feedback page)\n"
        text = text[: max_chars - len(tail)].rsplit("\n", 1)[0] + tail
    return text


def write_feedback(folder: str | os.PathLike, record: dict, values: dict | None = None,
                   probe_ref: dict | None = None, executed: Any = None) -> tuple[Path, Path]:
    """Write ``folder/<name>.html`` and ``folder/<name>.txt`` (atomically); returns both paths.

    ``<name>`` is :func:`feedback_filename` of the student id. Parameters as :func:`feedback_html`.
    """
    folder = Path(folder)
    name = feedback_filename(str(record.get("student", "")))
    html_path = atomic_write_text(folder / f"{name}.html", feedback_html(record, values, probe_ref, executed))
    txt_path = atomic_write_text(folder / f"{name}.txt", feedback_text(record))
    return html_path, txt_path


def load_values(day: int, export_dir: str | os.PathLike) -> dict[int, dict]:
    """``{practice number: values}`` read back from an export folder (untrusted; see ``load_practice``)."""
    from .export import load_practice

    return {p.number: load_practice(p, export_dir) for p in PRACTICES[day]}
