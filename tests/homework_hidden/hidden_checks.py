"""Hidden checks of the homework (the repository's example set, used by the tests of grading/: tests/test_grading_*.py).

Instructors: copy this file somewhere students cannot see, change it, and pass it to the
grader with ``workshop-grade ... --hidden PATH``.  It must define ``HIDDEN_CHECKS``:
``{(day, practice): [Check, ...]}``; with the public checks of the package each practice
adds up to 10 points.  Checks receive the exported ``values`` and the reference data ``ref``
(see ``workshop_utils.grading.practices.reference``) with the grader's private probe set
(``ref["probe"]``: labels and planted sites of sequences the submission scored blind, see
``workshop_utils.grading.probe``).  A check that credits a trained model must score it on
the probe (``private=True``): comparing the student's numbers with labels the student also
holds proves only that the numbers fit together.
"""
import numpy as np

from workshop_utils.config import pick
from workshop_utils.grading.core import Check, as_float, as_vector
from workshop_utils.grading.practices import (SCHEDULE_EPOCHS, json_arc, limit, probe_attr, probe_auroc,
                                              probe_peak_ratio, probe_recovery, probe_scores)


def _auc(y, s):
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, as_vector(s, len(y))))


# ------------------------------------------------------------------------------------ Day 1
def d1p1_learned(v, ref):
    private, thr, tol = probe_auroc(v, "torch_model", ref), limit("learned"), limit("auroc_tol")
    own = _auc(ref["y_test"], v["test_scores"])
    ok = private >= thr and abs(own - private) <= tol
    return ok, (f"torch_model: AUROC {private:.3f} on private data (a trained model reaches {thr}); "
                f"test_scores give {own:.3f} (within {tol} expected)")


def d1p2_distinct(v, ref):
    k, t = probe_scores(v, "keras_model", ref), probe_scores(v, "torch_model", ref)
    r = float(np.corrcoef(k, t)[0, 1]) if k.std() > 0 and t.std() > 0 else 1.0
    fw = (v["keras_model"]["framework"], v["torch_model"]["framework"])
    ok = r < 0.999 and fw == ("keras", "torch")
    return ok, f"frameworks {fw}; correlation of the two models' private scores {r:.4f} (two different models expected)"


def d1p3_schedule_used(v, ref):
    h = v["history_p3"]
    logged = as_vector(h.get("learning_rate", h.get("lr")), None, "learning_rate")
    want = as_vector(v["lr_schedule"], SCHEDULE_EPOCHS)[: len(logged)]  # lr_schedule(0..99)
    ok = len(logged) <= SCHEDULE_EPOCHS and np.allclose(logged, want, rtol=1e-4)
    return ok, f"learning rates logged {np.round(logged, 6).tolist()} vs lr_schedule {np.round(want, 6).tolist()}"


def d1p3_learned(v, ref):
    a, thr = probe_auroc(v, "model_p3", ref), limit("learned")
    return a >= thr, f"model_p3: AUROC {a:.3f} on private data (a trained model reaches {thr})"


def d1p4_real(v, ref):
    aur = np.array([float(r["val_auroc"]) for r in v["p4_results"]])
    a, thr = probe_auroc(v, "best_model_p4", ref), limit("learned_p4")
    ok = aur.std() > 1e-3 and a >= thr
    return ok, f"val_auroc spread {aur.std():.4f}; best_model_p4: AUROC {a:.3f} on private data (>= {thr} expected)"


def d1p5_claim(v, ref):
    got, want, tol = as_float(v["my_val_auroc"]), probe_auroc(v, "my_model", ref, "all"), limit("auroc_tol")
    return abs(got - want) <= tol, f"my_val_auroc {got:.4f}; my_model on private data {want:.4f} (within {tol})"


HIDDEN_CHECKS = {
    (1, 1): [Check("the evaluated model learned", 2, d1p1_learned, needs=("test_scores", "torch_model"),
                   private=True)],
    (1, 2): [Check("two different models", 1, d1p2_distinct, needs=("keras_model", "torch_model"), private=True)],
    (1, 3): [Check("the schedule drove the learning rate", 0.5, d1p3_schedule_used,
                   needs=("history_p3", "lr_schedule", "callbacks_p3")),
             Check("the restored model learned", 3, d1p3_learned, needs=("history_p3", "model_p3"), private=True)],
    (1, 4): [Check("runs really trained", 2, d1p4_real, needs=("p4_results", "best_model_p4"), private=True)],
    (1, 5): [Check("my_val_auroc holds on private data", 2, d1p5_claim, needs=("my_model", "my_val_auroc"),
                   private=True)],
}


# ------------------------------------------------------------------------------------ Day 2
def d2p1_recovers(v, ref):
    got, want, tol = as_float(v["site_recovery"]), probe_recovery(v, "model", "ism", ref), limit("recovery_tol")
    return abs(got - want) <= tol, (f"site_recovery {got:.3f}; model's ISM on private data {want:.3f} "
                                    f"(within {tol} expected)")


def d2p2_peaks(v, ref):
    got, want, tol = as_float(v["peak_ratio"]), probe_peak_ratio(v, "model", ref), limit("peak_ratio_rel_tol")
    return abs(got - want) <= tol * want, (f"peak_ratio {got:.3f}; model's ISM on private data {want:.3f} "
                                           f"(within {tol:.0%} expected)")


def _rows(table):
    return [(tuple(int(t) for t in json_arc(r["arc"])), float(r["reward"]), r) for r in table]


def d2p3_trained(v, ref):
    # Full mode: children train on 4,000 sequences for 3 epochs; the best reach ~0.69, untrained ones ~0.5.
    # Quick mode (300 sequences, 1 epoch) cannot tell trained from untrained: it only tests the plumbing.
    a, thr = probe_auroc(v, "best_model_p3", ref), limit("child_learned")
    return a >= thr, f"best_model_p3: AUROC {a:.3f} on private data (>= {thr} expected)"


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


def _probe_rank_corr(v, ref):
    from scipy.stats import spearmanr

    ig = np.abs(probe_attr(v, "model", "ig", ref)).max(-1)
    ism = np.abs(probe_attr(v, "model", "ism", ref)).max(-1)
    pos = ref["probe"]["y"][: len(ig)] == 1
    return np.array([spearmanr(a, b)[0] for a, b in zip(ig[pos], ism[pos])])


def d2p5_agree(v, ref):
    med, thr = float(np.nanmedian(_probe_rank_corr(v, ref))), limit("ig_ism_agree")
    return med >= thr, f"median Spearman of model's IG and ISM on private positives {med:.3f} (>= {thr} expected)"


def d2p5_holds(v, ref):
    want, tol = float(np.nanmedian(_probe_rank_corr(v, ref))), limit("rank_corr_tol")
    got = float(np.nanmedian(as_vector(v["rank_corr_p5"], None, "rank_corr_p5")))
    return abs(got - want) <= tol, f"median rank_corr_p5 {got:.3f}; model on private data {want:.3f} (within {tol})"


HIDDEN_CHECKS.update({
    (2, 1): [Check("site_recovery holds on private data", 2, d2p1_recovers, needs=("site_recovery", "model"),
                   private=True)],
    (2, 2): [Check("peak_ratio holds on private data", 2, d2p2_peaks, needs=("peak_ratio", "model"), private=True)],
    (2, 3): [Check("the best child learned", 2, d2p3_trained, needs=("search_p3", "best_model_p3"), private=True),
             Check("several arcs evaluated", 1, d2p3_distinct, needs=("search_p3",))],
    (2, 4): [Check("the other reward is not AUROC", 2, d2p4_other_reward, needs=("search_auroc_p4", "search_other_p4")),
             Check("the other reward has its range", 1, d2p4_reward_range, needs=("reward_name_p4", "search_other_p4"))],
    (2, 5): [Check("IG agrees with ISM on private data", 2, d2p5_agree, needs=("ig_attr", "model"), private=True),
             Check("rank_corr_p5 holds on private data", 1, d2p5_holds, needs=("rank_corr_p5", "model"),
                   private=True)],
})
