"""A small graded class without running notebooks: hand-written Day-1 exports, a probe, a store.

The exports are what a kernel's export cell writes (``values.json`` and ``.npy`` without
pickle); the models are stood for by their scores, so no framework is needed: a student
whose "model" separates the probe's classes with a chosen AUROC, one who reports a wrong
AUROC, one who exported nothing, one whose strings carry HTML and script.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
PROBE_SEED = 20261205
PROBE_N = 1500
INJECTION = ('<script>document.title="pwned"; window.pwned = 1; alert(1)</script>'
             '<img src=x onerror="document.title=\'pwned\'; window.pwned = 1">'
             '<a href="javascript:alert(1)">click</a>'
             '<svg onload="window.pwned=1"><script>window.pwned=1</script></svg>')


def scores_with_auroc(y: np.ndarray, strength: float, seed: int) -> np.ndarray:
    """Probabilities (N,) for labels ``y`` (N,): a logistic of ``strength * y`` plus unit noise."""
    rng = np.random.default_rng(seed)
    z = strength * (np.asarray(y) - 0.5) + rng.normal(size=len(y))
    return (1 / (1 + np.exp(-z))).astype(np.float32)


def write_day1_p1(folder: Path, ref: dict, strength: float, seed: int, lie: float = 0.0,
                  callback_name: str = "", answer: str | None = None) -> None:
    """Practice 1 of Day 1 as a kernel would export it; ``lie`` is added to the reported AUROC."""
    from sklearn.metrics import average_precision_score, confusion_matrix, roc_auc_score

    where = folder / "day1_p1"
    where.mkdir(parents=True)
    y = ref["y_test"]
    s = scores_with_auroc(y, strength, seed)
    ps = scores_with_auroc(ref["probe"]["y"], strength, seed + 1)
    np.save(where / "torch_model.npy", s, allow_pickle=False)
    np.save(where / "torch_model.probe_scores.npy", ps, allow_pickle=False)
    np.save(where / "test_scores.npy", s, allow_pickle=False)
    np.save(where / "confusion.npy", confusion_matrix(y, s >= 0.5), allow_pickle=False)
    (where / "fig_eval.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(3000))
    text = answer or ("The auroc and the precision at each recall say how well the scores rank bound sequences "
                      "above unbound ones, and the confusion matrix counts the false calls of the model. " * 2)
    entries = {
        "torch_model": {"kind": "model", "file": "torch_model.npy", "n_params": 14265, "framework": "torch",
                        "files": {"scores": "torch_model.npy", "probe_scores": "torch_model.probe_scores.npy"}},
        "test_scores": {"kind": "array", "file": "test_scores.npy"},
        "auroc": {"kind": "scalar", "value": float(roc_auc_score(y, s)) + lie},
        "aupr": {"kind": "scalar", "value": float(average_precision_score(y, s))},
        "confusion": {"kind": "array", "file": "confusion.npy"},
        "fig_eval": {"kind": "figure", "png": "fig_eval.png",
                     "value": {"axes": [{"title": callback_name or "ROC", "xlabel": "fpr", "ylabel": "tpr",
                                         "n_lines": 1, "n_artists": 1},
                                        {"title": "PR", "xlabel": "recall", "ylabel": "precision", "n_lines": 1,
                                         "n_artists": 1}], "png_bytes": 3008}},
        "answer_p1": {"kind": "text", "value": text},
    }
    (where / "values.json").write_text(json.dumps(entries))


def hidden_file(path: Path, bar: float) -> Path:
    """A hidden-checks file with one private check on Day 1 practice 1: torch_model's probe AUROC >= ``bar``."""
    path.write_text(
        "from workshop_utils.grading.core import Check\n"
        "from workshop_utils.grading.practices import probe_auroc\n\n"
        "def learned(v, ref):\n"
        "    got = probe_auroc(v, 'torch_model', ref)\n"
        f"    return got >= {bar!r}, f'torch_model: AUROC {{got:.3f}} on private data (>= {bar} expected)'\n\n"
        "HIDDEN_CHECKS = {(1, 1): [Check('torch_model learned (private data)', 2, learned, "
        "needs=('torch_model',), private=True)]}\n")
    return path


#: The class: student id -> (AUROC strength or None for no export, lie about the AUROC).
CLASS = {"ada": (2.2, 0.0), "bob": (1.2, 0.0), "cy": (2.2, 0.2), "dee": (None, 0.0),
         '<script>alert("id")</script>': (2.0, 0.0)}


COPIED = """def evaluate(model, x, y):
    scores = wu.backend.predict_proba(model, x)
    fpr, tpr, _ = roc_curve(y, scores)
    best = 0.0
    for cut in np.linspace(0.05, 0.95, 19):
        calls = scores >= cut
        acc = (calls == y).mean()
        if acc > best:
            best, best_cut = acc, cut
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 4))
    a.plot(fpr, tpr); a.set_xlabel("false positive rate")
    p, r, _ = precision_recall_curve(y, scores)
    b.plot(r, p); b.set_xlabel("recall")
    return scores, roc_auc_score(y, scores), best_cut, fig
"""


OWN = [
    "import pandas as pd\ntable = pd.DataFrame({'auroc': [auroc], 'aupr': [aupr]})\nprint(table.to_string())\n"
    "while len(table) < 3:\n    table = pd.concat([table, table])\nassert table.shape[1] == 2, table.columns\n",
    "try:\n    import seaborn\nexcept ImportError:\n    seaborn = None\nclass Box:\n    def __init__(self, v):\n"
    "        self.v = v\n    def __repr__(self):\n        return f'Box({self.v})'\n"
    "boxes = {k: Box(k) for k in 'abc'}\n",
    "lo, hi = 0, len(test_scores) - 1\nwhile lo < hi:\n    mid = (lo + hi) // 2\n    if test_scores[mid] < 0.5:\n"
    "        lo = mid + 1\n    else:\n        hi = mid\nprint('first call at', lo, 'of', len(test_scores))\n",
    "with open('notes.txt', 'w') as fh:\n    for line in sorted(set(answer_p1.split()), key=str.lower):\n"
    "        fh.write(line + '\\n')\nlambda_ = [(x, y) for x in range(3) for y in 'xy' if x != 1]\ndel lambda_\n",
    "global_max = max(map(abs, confusion.ravel())) if confusion is not None else -1\nassert global_max >= 0\n"
    "import itertools\npairs = list(itertools.combinations(range(4), 2))\nraise_it = not pairs or None\n",
]


def own_code(i: int) -> str:
    """Code of student ``i``, written differently from everyone else's."""
    return OWN[i % len(OWN)]


def make_class_store(tmp: Path, hidden: Path, class_: dict = CLASS, answers: dict | None = None) -> dict:
    """Check every student of ``class_`` as the grader does, write the CSV and the store; returns the pieces.

    ``answers``: ``{student: their answer_p1}`` (the others write the default answer).

    Returns
    -------
    dict
        ``store`` (folder), ``csv`` (path), ``ref`` (with the probe), ``rows``, ``records``.
    """
    from workshop_utils.grading.csvlog import CsvLog, columns, hidden_digest
    from workshop_utils.grading.practices import reference
    from workshop_utils.grading.probe import add_to_reference, make_probe
    from workshop_utils.grading.regrade import practice_points, run_checks_batch
    from workshop_utils.grading.results import build_row
    from workshop_utils.grading.store import open_store, reference_digest

    ref = reference(source="simulated")
    probe = make_probe(PROBE_SEED, n=PROBE_N)
    full = add_to_reference(ref, probe)
    st = open_store(tmp / "store", day=1, quick=bool(ref["quick"]), ref_digest=reference_digest(ref), create=True)
    st.save_probe(probe)
    folders = {}
    for i, (sid, (strength, lie)) in enumerate(class_.items()):
        folder = tmp / "exports" / f"s{i}"
        folder.mkdir(parents=True)
        if strength is not None:
            write_day1_p1(folder, full, strength, seed=100 + i, lie=lie,
                          callback_name=INJECTION if sid.startswith("<") else "", answer=(answers or {}).get(sid))
        folders[sid] = folder
    points = practice_points(1, [hidden])
    results = run_checks_batch(1, [hidden], list(folders.values()), full)
    log = CsvLog(tmp / "grades.csv", columns(1), resume=False, meta={"day": "1", "hidden": hidden_digest([hidden])})
    rows, records = [], {}
    for (sid, folder), res in zip(folders.items(), results):
        errors = ["cell 3: ValueError: " + INJECTION] if sid.startswith("<") else []
        status = "time limit (600 s) reached in cell 7" if sid == "dee" else "ok"
        seconds, peak = 10.0 + len(sid), 300.0 + 10 * len(sid)
        row = build_row(sid, 1, res, status, errors, points,
                        extra={"seconds": f"{seconds:.1f}", "peak_mb": f"{peak:.0f}", "name_note": ""})
        log.append(row)
        rows.append(row)
        rec = {"day": 1, "status": status, "errors": errors, "results": res, "row": row}
        code = [f"print({sid!r})", COPIED if sid in ("ada", "cy") else own_code(list(class_).index(sid))]
        st.put(sid, folder, rec, code=code, executed=None)
        records[sid] = rec
    return {"store": tmp / "store", "csv": tmp / "grades.csv", "ref": full, "rows": rows, "records": records,
            "folders": folders}
