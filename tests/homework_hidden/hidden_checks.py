"""Hidden checks of the homework (the repository's example set, used by tests/test_grading.py).

Instructors: copy this file somewhere students cannot see, change it, and pass it to the
grader with ``workshop-grade ... --hidden PATH``.  It must define ``HIDDEN_CHECKS``:
``{(day, practice): [Check, ...]}``; with the public checks of the package each practice
adds up to 10 points.  Checks receive the exported ``values`` and the reference data ``ref``
(see ``workshop_utils.grading.practices.reference``).
"""
import numpy as np
from sklearn.metrics import roc_auc_score

from workshop_utils.config import pick
from workshop_utils.grading.core import Check, as_float, as_vector
from workshop_utils.grading.practices import SCHEDULE_EPOCHS


def _auc(ref, s, split="test"):
    return float(roc_auc_score(ref[f"y_{split}"], as_vector(s, len(ref[f"y_{split}"]))))


# ------------------------------------------------------------------------------------ Day 1
def d1p1_learned(v, ref):
    a, thr = _auc(ref, v["test_scores"]), pick(full=0.8, quick=0.55)
    return a >= thr, f"test AUROC {a:.3f} (a trained model reaches {thr})"


def d1p2_trained(v, ref):
    thr = pick(full=0.8, quick=0.55)
    k, t = _auc(ref, v["keras_test_scores"]), _auc(ref, v["torch_test_scores"])
    return min(k, t) >= thr, f"test AUROC keras {k:.3f}, torch {t:.3f} (both must reach {thr})"


def d1p2_distinct(v, ref):
    k, t = as_vector(v["keras_test_scores"]), as_vector(v["torch_test_scores"])
    r = float(np.corrcoef(k, t)[0, 1]) if k.std() > 0 and t.std() > 0 else 1.0
    return r < 0.999, f"correlation of the two models' scores {r:.4f} (two different models expected)"


def d1p3_restored(v, ref):
    best = float(np.min(as_vector(v["history_p3"]["val_loss"])))
    got = as_float(v["restored_val_loss"])
    return abs(got - best) <= 1e-3 * max(1.0, best), f"restored {got:.5f} vs best val_loss {best:.5f}"


def d1p3_schedule_used(v, ref):
    h = v["history_p3"]
    logged = as_vector(h.get("learning_rate", h.get("lr")), None, "learning_rate")
    want = as_vector(v["lr_schedule"], SCHEDULE_EPOCHS)[: len(logged)]  # lr_schedule(0..99)
    ok = len(logged) <= SCHEDULE_EPOCHS and np.allclose(logged, want, rtol=1e-4)
    return ok, f"learning rates logged {np.round(logged, 6).tolist()} vs lr_schedule {np.round(want, 6).tolist()}"


def d1p4_real(v, ref):
    aur = np.array([float(r["val_auroc"]) for r in v["p4_results"]])
    thr = pick(full=0.75, quick=0.5)
    return aur.std() > 1e-3 and aur.max() >= thr, f"val_auroc spread {aur.std():.4f}, best {aur.max():.3f}"


def d1p5_beats(v, ref):
    mine, base = _auc(ref, v["my_model"]["scores"], "valid"), _auc(ref, v["baseline_model"]["scores"], "valid")
    return mine > base, f"my_model validation AUROC {mine:.4f} vs baseline model {base:.4f}"


def d1p5_baseline(v, ref):
    base, got = _auc(ref, v["baseline_model"]["scores"], "valid"), as_float(v["baseline_val_auroc"])
    return abs(base - got) <= 2e-3, f"baseline_val_auroc {got:.4f} vs the baseline model {base:.4f}"


HIDDEN_CHECKS = {
    (1, 1): [Check("the scored model learned", 2, d1p1_learned, needs=("test_scores",))],
    (1, 2): [Check("both models learned", 2, d1p2_trained, needs=("keras_test_scores", "torch_test_scores")),
             Check("two different models", 1, d1p2_distinct, needs=("keras_test_scores", "torch_test_scores"))],
    (1, 3): [Check("the best weights were restored", 2, d1p3_restored, needs=("history_p3", "restored_val_loss")),
             Check("the schedule drove the learning rate", 1, d1p3_schedule_used,
                   needs=("history_p3", "lr_schedule", "callbacks_p3"))],
    (1, 4): [Check("runs really trained", 2, d1p4_real, needs=("p4_results",))],
    (1, 5): [Check("my_model beats the baseline model", 3, d1p5_beats, needs=("my_model", "baseline_model")),
             Check("baseline_val_auroc is the baseline's", 1, d1p5_baseline,
                   needs=("my_model", "baseline_model", "baseline_val_auroc"))],
}


# ------------------------------------------------------------------------------------ Day 2
from workshop_utils.grading.practices import json_arc, n_p5, selected  # noqa: E402


def _importance(v, name):
    return np.abs(np.asarray(v[name], dtype=np.float64)).max(-1)


def d2p1_recovers(v, ref):
    from workshop_utils.attribution import site_overlap, top_window

    idx = selected(ref, 1)
    start = ref["site_start_test"][idx]
    hit = site_overlap(top_window(_importance(v, "ism_pos")), start)[start >= 0]
    frac, thr = float(hit.mean()), pick(full=0.8, quick=0.5)
    return frac >= thr, f"ISM top window on the planted site for {frac:.0%} of positives (expected >= {thr:.0%})"


def d2p2_peaks(v, ref):
    pos = _importance(v, "ism_pos").max(-1).mean()
    neg = _importance(v, "ism_neg").max(-1).mean()
    ratio = pick(full=1.25, quick=1.1)  # the reference solution: 1.45 in full mode (negatives carry flank sites)
    return pos > ratio * neg, f"mean peak |ISM| positives {pos:.3g} vs negatives {neg:.3g} (expected > {ratio}x)"


def _rows(table):
    return [(tuple(int(t) for t in json_arc(r["arc"])), float(r["reward"]), r) for r in table]


def d2p3_trained(v, ref):
    rw = np.array([r for _, r, _ in _rows(v["search_p3"])])
    # Full mode: children train on 4,000 sequences for 3 epochs; the best reach ~0.69, untrained ones ~0.5.
    # Quick mode (300 sequences, 1 epoch) cannot tell trained from untrained: it only tests the plumbing.
    thr = pick(full=0.6, quick=0.45)
    ok = np.all((rw >= 0) & (rw <= 1)) and rw.max() >= thr
    return ok, f"rewards in [{rw.min():.3f}, {rw.max():.3f}] (validation AUROCs, best >= {thr} expected)"


def d2p3_distinct(v, ref):
    n, want = len({a for a, _, _ in _rows(v["search_p3"])}), pick(full=5, quick=2)
    return n >= want, f"{n} distinct arcs evaluated (>= {want} expected)"


def d2p4_other_reward(v, ref):
    other = _rows(v["search_other_p4"])
    auroc = {a: r for a, r, _ in _rows(v["search_auroc_p4"])}
    differs = [a for a, r, row in other if abs(r - float(row.get("val_auroc", auroc.get(a, r)))) > 1e-9]
    return bool(differs), f"{len(differs)} of {len(other)} arcs score differently under the other reward"


def d2p4_reward_range(v, ref):
    name = str(v["reward_name_p4"]).strip().lower()
    rw = np.array([r for _, r, _ in _rows(v["search_other_p4"])])
    if "acc" in name:
        ok = bool(np.all((rw >= 0) & (rw <= 1)))
    elif "loss" in name:
        ok = bool(np.all(rw <= 0))
    else:
        return False, f"reward_name_p4={name!r}: expected 'accuracy' or 'neg_loss'"
    return ok, f"{name} rewards in [{rw.min():.3f}, {rw.max():.3f}]"


def d2p5_agree(v, ref):
    from scipy.stats import spearmanr

    n = n_p5(ref)
    ig, ism = _importance(v, "ig_attr"), _importance(v, "ism_pos")[:n]
    med = float(np.median([spearmanr(a, b)[0] for a, b in zip(ig, ism)]))
    thr = pick(full=0.3, quick=0.1)
    return med >= thr, f"median Spearman IG vs ISM {med:.3f} (expected >= {thr})"


def d2p5_site(v, ref):
    from workshop_utils.attribution import site_overlap, top_window

    n = n_p5(ref)
    start = ref["site_start_test"][selected(ref, 1)[:n]]
    hit = site_overlap(top_window(_importance(v, "ig_attr")), start)[start >= 0]
    frac, thr = float(hit.mean()), pick(full=0.7, quick=0.4)
    return frac >= thr, f"IG top window on the planted site for {frac:.0%} (expected >= {thr:.0%})"


HIDDEN_CHECKS.update({
    (2, 1): [Check("ISM finds the planted sites", 2, d2p1_recovers, needs=("ism_pos",))],
    (2, 2): [Check("positives peak higher than negatives", 2, d2p2_peaks, needs=("ism_pos", "ism_neg"))],
    (2, 3): [Check("rewards of trained children", 2, d2p3_trained, needs=("search_p3",)),
             Check("several arcs evaluated", 1, d2p3_distinct, needs=("search_p3",))],
    (2, 4): [Check("the other reward is not AUROC", 2, d2p4_other_reward, needs=("search_auroc_p4", "search_other_p4")),
             Check("the other reward has its range", 1, d2p4_reward_range, needs=("reward_name_p4", "search_other_p4"))],
    (2, 5): [Check("IG agrees with ISM on the whole", 2, d2p5_agree, needs=("ig_attr", "ism_pos")),
             Check("IG finds the planted sites", 1, d2p5_site, needs=("ig_attr",))],
})
