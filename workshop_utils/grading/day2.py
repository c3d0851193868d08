"""The Day-2 homework: five practices (ISM, positives vs negatives, a model space, a reward, IG vs ISM)."""
from __future__ import annotations

import numpy as np

from .core import (Check, answer_check, as_float, as_vector, close, figure_check, measure,
                   practice_from_text)

from .checks_common import (limit, probe_attr, probe_auroc, probe_recovery, recovery)


# ------------------------------------------------------------------------------------ Day 2
def selected(ref: dict, label: int) -> np.ndarray:
    """Indices of the test sequences a Day-2 practice uses: all of class ``label`` (quick mode: first 100)."""
    idx = np.where(ref["y_test"] == label)[0]
    return idx[:100] if ref["quick"] else idx


def n_p5(ref: dict) -> int:
    """How many positives practice 5 of Day 2 compares IG and ISM on."""
    return 20 if ref["quick"] else 200


def _attr(v, name, n, L=None):
    a = np.asarray(v[name], dtype=np.float64)
    if a.ndim != 3 or a.shape[0] != n or a.shape[2] != 4 or (L is not None and a.shape[1] != L):
        want = f"({n}, {L or 'L'}, 4)"
        raise ValueError(f"{name} must have shape {want}, got {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} contains NaN or inf")
    return a


def _spearman_rows(a, b) -> np.ndarray:
    """Spearman correlation of each row pair (NaN where a row is constant)."""
    import warnings

    from scipy.stats import spearmanr

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a constant row (a model that ignores its input) gives NaN
        return np.array([spearmanr(x, y)[0] for x, y in zip(a, b)], dtype=np.float64)


def _anchored(v, name, model, method, min_rho) -> tuple[bool, str]:
    """Whether the first rows of the student's map ``name`` rank positions as the model's own map does.

    The export computes ``method`` of ``model`` on the first :data:`N_ANCHOR` positives of
    the test set (= the first rows of ``pos_idx``); a map typed in or made from the planted
    sites does not rank the other 180 positions as the model does.
    """
    anchor = np.asarray(v[model].get(f"anchor_{method}", np.zeros((0, 0, 4))), dtype=np.float64)
    if anchor.ndim != 3 or anchor.shape[0] < 1:
        return False, f"{model} has no {method.upper()} of its own to compare {name} with"
    mine = np.abs(np.asarray(v[name], dtype=np.float64)[: len(anchor)]).max(-1)
    rho = _spearman_rows(mine, np.abs(anchor).max(-1))
    ok = bool(np.all(np.nan_to_num(rho, nan=-1) >= min_rho))
    return ok, f"first {len(rho)} rows of {name} vs {model}'s own {method.upper()}: Spearman {np.round(rho, 3).tolist()}"


def _map_of_the_model(v, ref, name: str, n: int, method: str, min_rho: float, note: str = "") -> tuple[bool, str]:
    """``name`` is an (n, L, 4) map, not all zeros, whose first rows follow the model's own ``method`` map."""
    a = _attr(v, name, n, ref["x_test"].shape[1])
    if not np.abs(a).max() > 0:
        return False, f"{name} is all zeros"
    ok, msg = _anchored(v, name, "model", method, min_rho)
    return ok, f"{name} {a.shape}; {msg} (>= {min_rho} expected{note})"


def _d2p1_shape(v, ref):
    return _map_of_the_model(v, ref, "ism_pos", len(selected(ref, 1)), "ism", 0.8)


def _d2p1_importance(v, ref):
    a = _attr(v, "ism_pos", len(selected(ref, 1)))
    want = np.abs(a).max(-1)
    got = np.asarray(v["importance_pos"], dtype=np.float64)
    if got.shape != want.shape:
        return False, f"importance_pos must have shape {want.shape}, got {got.shape}"
    err = float(np.abs(got - want).max())
    return err <= 1e-4 * max(1.0, float(want.max())), f"largest difference from |ism_pos|.max(-1): {err:.3g}"


def _site_recovery(importance, ref, idx):
    return recovery(importance, ref["site_start_test"][idx])


def _d2p1_recovery(v, ref):
    idx = selected(ref, 1)
    want = _site_recovery(v["importance_pos"], ref, idx)
    got = as_float(v["site_recovery"], "site_recovery")
    return close(got, want, 1e-3), f"site_recovery={got:.4f}; from importance_pos and the planted sites: {want:.4f}"


def _d2p1_private(v, ref):
    got, thr = probe_recovery(v, "model", "ism", ref), limit("ism_sites")
    return got >= thr, (f"model's ISM puts its top window on the planted site for {got:.0%} of the grader's private "
                        f"positives (>= {thr:.0%} expected)")


def _d2p2_neg(v, ref):
    a = _attr(v, "ism_neg", len(selected(ref, 0)), ref["x_test"].shape[1])
    return bool(np.abs(a).max() > 0), f"ism_neg {a.shape}"


def _d2p2_means(v, ref):
    bad = []
    for cls, label in (("pos", 1), ("neg", 0)):
        want = np.abs(_attr(v, f"ism_{cls}", len(selected(ref, label)))).max(-1).mean(0)
        got = as_vector(v[f"mean_importance_{cls}"], len(want), f"mean_importance_{cls}")
        if np.abs(got - want).max() > 1e-4 * max(1.0, float(want.max())):
            bad.append(f"mean_importance_{cls} differs from |ism_{cls}|.max(-1).mean(0)")
    return not bad, "; ".join(bad) or "both mean importance profiles match the ISM maps"


def _d2p2_ratio(v, ref):
    peak = {c: np.abs(_attr(v, f"ism_{c}", len(selected(ref, lab)))).max(-1).max(-1).mean()
            for c, lab in (("pos", 1), ("neg", 0))}
    want = peak["pos"] / peak["neg"]
    got = as_float(v["peak_ratio"], "peak_ratio")
    return close(got, want, 1e-3 * max(1.0, want)), f"peak_ratio={got:.4f}; from the ISM maps: {want:.4f}"


def probe_peak_ratio(v: dict, name: str, ref: dict) -> float:
    """Mean peak |ISM| of the probe's attributed positives over that of its negatives, for model ``name``."""
    peak = np.abs(probe_attr(v, name, "ism", ref)).max(-1).max(-1)
    y = ref["probe"]["y"][: len(peak)]
    value = float(peak[y == 1].mean() / peak[y == 0].mean())
    measure("peak_ratio", value, model=name)
    return value


def _d2p2_private(v, ref):
    got, thr = probe_peak_ratio(v, "model", ref), limit("peak_ratio")
    return got >= thr, (f"mean peak |ISM| of model on the grader's private positives / negatives: {got:.2f} "
                        f"(>= {thr} expected)")


DAY2 = [
    practice_from_text(2, 1, [
        Check("ism_pos is model's ISM of every selected positive", 1, _d2p1_shape, needs=("ism_pos", "model"),
              hint="ism_pos = wu.attribution.ism(model, data.x_test[pos_idx]) (or your own ISM loop)."),
        Check("importance_pos from ism_pos", 1, _d2p1_importance, needs=("ism_pos", "importance_pos"),
              hint="importance_pos = np.abs(ism_pos).max(-1)  (= wu.attribution.position_importance)"),
        Check("site_recovery matches importance_pos", 1, _d2p1_recovery, needs=("importance_pos", "site_recovery"),
              hint="Use wu.attribution.top_window and site_overlap with data.sites['test']['start'][pos_idx]; "
                   "average over positives that have a site (start >= 0)."),
        figure_check("fig_ism_summary", min_axes=1),
        answer_check("answer_d2p1", 30, ("motif", "ctcf", "site", "position", "mutation")),
        Check("ISM finds the planted sites on private data", 3, _d2p1_private, needs=("ism_pos", "model"),
              private=True, hint="Explain the trained model of the top cell."),
    ], model=dict(split="test", attribution=("ism",))),
    practice_from_text(2, 2, [
        Check("ism_neg covers every selected negative", 1, _d2p2_neg, needs=("ism_neg",),
              hint="ism_neg = wu.attribution.ism(model, data.x_test[neg_idx])"),
        Check("mean importance profiles", 1, _d2p2_means,
              needs=("ism_pos", "ism_neg", "mean_importance_pos", "mean_importance_neg"),
              hint="mean_importance_pos = np.abs(ism_pos).max(-1).mean(0)"),
        Check("peak_ratio matches the maps", 1, _d2p2_ratio, needs=("ism_pos", "ism_neg", "peak_ratio"),
              hint="peak = np.abs(ism).max(-1).max(-1); peak_ratio = peak_pos.mean() / peak_neg.mean()"),
        figure_check("fig_pos_neg", min_axes=1),
        answer_check("answer_d2p2", 30, ("motif", "ctcf", "site", "flank", "negative")),
        Check("positives peak higher on private data", 3, _d2p2_private, needs=("ism_neg", "model"), private=True,
              hint="Explain the trained model of the top cell."),
    ], model=dict(split="test", attribution=("ism",))),
]


def _space_ops(v) -> list[list[str]]:
    ops = v["space_p3_ops"]
    if not (isinstance(ops, list) and ops and all(isinstance(l, list) and l for l in ops)):
        raise ValueError("space_p3_ops must be a list (one per layer) of lists of operation names")
    return [[str(o) for o in layer] for layer in ops]


def _course_ops() -> list[list[str]]:
    from ..nas import course_model_space

    return [[str(o) for o in layer] for layer in course_model_space()]


def _arcs(table, name) -> tuple[list[list[int]], np.ndarray]:
    if not isinstance(table, list) or not table:
        raise ValueError(f"{name} must be a non-empty table (SearchHistory.table)")
    arcs = [[int(t) for t in (json_arc(r["arc"]))] for r in table]
    rewards = as_vector([float(r["reward"]) for r in table], None, f"{name} rewards")
    return arcs, rewards


def json_arc(a) -> list:
    """An arc from a table cell: a list, or its string form ``'[0, 1, 2]'``."""
    if isinstance(a, str):
        import json

        a = json.loads(a)
    return list(a)


def _d2p3_space(v, ref):
    ops = _space_ops(v)
    differs = ops != _course_ops()
    return differs, f"{len(ops)} layers, {int(np.prod([len(l) for l in ops]))} architectures" + (
        "" if differs else " (the same as course_model_space())")


def _d2p3_trials(v, ref):
    ops = _space_ops(v)
    arcs, rewards = _arcs(v["search_p3"], "search_p3")
    bad = [a for a in arcs if len(a) != len(ops) or any(not 0 <= t < len(l) for t, l in zip(a, ops))]
    ok = len(arcs) >= 3 and not bad
    return ok, f"{len(arcs)} trials" + (f"; arcs not in space_p3: {bad[:3]}" if bad else "")


def _d2p3_best(v, ref):
    arcs, rewards = _arcs(v["search_p3"], "search_p3")
    want = arcs[int(np.argmax(rewards))]
    got = [int(t) for t in json_arc(v["best_arc_p3"])]
    return got == want, f"best_arc_p3={got}; highest reward in search_p3: {want}"


def _d2p3_private(v, ref):
    _, rewards = _arcs(v["search_p3"], "search_p3")
    best, tol = float(rewards.max()), limit("reward_tol")
    got = probe_auroc(v, "best_model_p3", ref)
    return abs(got - best) <= tol, (f"best reward of search_p3 {best:.4f}; best_model_p3 on the grader's private "
                                    f"sequences {got:.4f} (within {tol} expected)")


def _d2p4_tables(v, ref):
    a, _ = _arcs(v["search_auroc_p4"], "search_auroc_p4")
    b, _ = _arcs(v["search_other_p4"], "search_other_p4")
    return min(len(a), len(b)) >= 3, f"{len(a)} and {len(b)} trials"


def _d2p4_winner(name, table):
    def fn(v, ref):
        arcs, rewards = _arcs(v[table], table)
        want = arcs[int(np.argmax(rewards))]
        got = [int(t) for t in json_arc(v[name])]
        return got == want, f"{name}={got}; highest reward in {table}: {want}"
    return fn


def _d2p4_same(v, ref):
    a = [int(t) for t in json_arc(v["winner_auroc_p4"])]
    b = [int(t) for t in json_arc(v["winner_other_p4"])]
    got = bool(v["same_winner_p4"])
    return got == (a == b), f"same_winner_p4={got}; winners {a} and {b}"


DAY2 += [
    practice_from_text(2, 3, [
        Check("a space other than the course space", 1, _d2p3_space, needs=("space_p3_ops",),
              hint="Build nas.ModelSpace.from_dict([...]) with other or fewer operations than course_model_space()."),
        Check("a search of 3 or more arcs of that space", 1, _d2p3_trials, needs=("space_p3_ops", "search_p3"),
              hint="hist = nas.search(nas.RandomController(space_p3, seed=0), evaluate, n_trials=...); "
                   "search_p3 = hist.table"),
        Check("best_arc_p3 is the best trial", 1, _d2p3_best, needs=("search_p3", "best_arc_p3"),
              hint="best_arc_p3 = hist.best_arc"),
        answer_check("answer_d2p3", 30, ("space", "arc", "layer", "conv", "pool", "search")),
        Check("the best reward holds on private data", 3, _d2p3_private, needs=("search_p3", "best_model_p3"),
              private=True,
              hint="Rebuild and retrain the best child as the evaluator did: wu.set_seed(0); "
                   "best_model_p3 = builder_p3(best_arc_p3); nas.train_child(best_model_p3, search_data, "
                   "epochs=EPOCHS, patience=1, batch_size=128, seed=0)."),
    ], best_model_p3=dict(split="valid")),
    practice_from_text(2, 4, [
        Check("two searches of 3 or more arcs", 1, _d2p4_tables, needs=("search_auroc_p4", "search_other_p4"),
              hint="Run nas.search twice with RandomController(space, seed=0) so both rewards see the same arcs."),
        Check("winner under AUROC", 2, _d2p4_winner("winner_auroc_p4", "search_auroc_p4"),
              needs=("search_auroc_p4", "winner_auroc_p4"), hint="winner_auroc_p4 = hist_auroc.best_arc"),
        Check("winner under the other reward", 2, _d2p4_winner("winner_other_p4", "search_other_p4"),
              needs=("search_other_p4", "winner_other_p4"), hint="winner_other_p4 = hist_other.best_arc"),
        Check("same_winner_p4 matches the winners", 1, _d2p4_same,
              needs=("winner_auroc_p4", "winner_other_p4", "same_winner_p4"),
              hint="same_winner_p4 = winner_auroc_p4 == winner_other_p4"),
        answer_check("answer_d2p4", 30, ("reward", "accuracy", "loss", "auroc", "winner", "rank")),
    ]),
]


def _d2p5_ig(v, ref):
    return _map_of_the_model(v, ref, "ig_attr", n_p5(ref), "ig", 0.5, ": IG, or SHAP scores of the same model")


def _d2p5_corr(v, ref):
    n = n_p5(ref)
    ig = np.abs(_attr(v, "ig_attr", n)).max(-1)
    ism = np.abs(_attr(v, "ism_pos", len(selected(ref, 1)))[:n]).max(-1)
    want = _spearman_rows(ig, ism)
    got = as_vector(v["rank_corr_p5"], n, "rank_corr_p5")
    err = float(np.nanmax(np.abs(got - want)))
    return err <= 1e-3, f"median rank_corr_p5 {np.median(got):.3f}; from the maps {np.median(want):.3f} (max diff {err:.2g})"


def _d2p5_private(v, ref):
    got, thr = probe_recovery(v, "model", "ig", ref), limit("ig_sites")
    return got >= thr, (f"model's IG puts its top window on the planted site for {got:.0%} of the grader's private "
                        f"positives (>= {thr:.0%} expected)")


DAY2.append(practice_from_text(2, 5, [
    Check("ig_attr is model's IG of the first N_P5 positives", 1, _d2p5_ig, needs=("ig_attr", "model"),
          hint="ig_attr = wu.attribution.integrated_gradients(model, data.x_test[pos_idx[:N_P5]])"),
    Check("rank_corr_p5 from the two maps", 2, _d2p5_corr, needs=("ig_attr", "ism_pos", "rank_corr_p5"),
          hint="scipy.stats.spearmanr(np.abs(ig).max(-1)[i], np.abs(ism).max(-1)[i])[0] for each sequence i"),
    figure_check("fig_p5", min_axes=1),
    answer_check("answer_d2p5", 30, ("gradient", "saturat", "baseline", "ism", "agree", "correl")),
    Check("IG finds the planted sites on private data", 2, _d2p5_private, needs=("ig_attr", "model"), private=True,
          hint="Explain the trained model of the top cell."),
], model=dict(split="test", attribution=("ism", "ig"))))
