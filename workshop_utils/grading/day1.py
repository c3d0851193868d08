"""The Day-1 homework: five practices (evaluate, compare, callbacks, optimizers, a better architecture)."""
from __future__ import annotations

import numpy as np

from .core import (Check, answer_check, as_float, as_vector, close, figure_check,
                   practice_from_text)

from .checks_common import (auroc as _auroc, bce as _bce, bool_vector as _bool_vector, limit, misclassified as _wrong,
                            probabilities as _probabilities, probe_auroc, probe_labels, probe_scores,
                            same_scores as _same_scores)



# ------------------------------------------------------------------------------------ Day 1
def _d1p1_scores(v, ref):
    return _same_scores(v, "test_scores", "torch_model", len(ref["y_test"]))


def _d1p1_auroc(v, ref):
    s = _probabilities(v, "test_scores", len(ref["y_test"]))
    want, got = _auroc(ref["y_test"], s), as_float(v["auroc"], "auroc")
    return close(got, want, 1e-3), f"auroc={got:.4f}; from test_scores: {want:.4f}"


def _d1p1_aupr(v, ref):
    from sklearn.metrics import auc, average_precision_score, precision_recall_curve

    s = _probabilities(v, "test_scores", len(ref["y_test"]))
    ap = float(average_precision_score(ref["y_test"], s))
    p, r, _ = precision_recall_curve(ref["y_test"], s)
    area = float(auc(r, p))
    got = as_float(v["aupr"], "aupr")
    ok = close(got, ap, 2e-3) or close(got, area, 2e-3)
    return ok, f"aupr={got:.4f}; from test_scores: average precision {ap:.4f}, trapezoid area {area:.4f}"


def _d1p1_confusion(v, ref):
    from sklearn.metrics import confusion_matrix

    s = _probabilities(v, "test_scores", len(ref["y_test"]))
    got = np.asarray(v["confusion"])
    want = confusion_matrix(ref["y_test"], (s >= 0.5).astype(int), labels=[0, 1])
    if got.shape != (2, 2):
        return False, f"confusion must be 2x2 [[TN, FP], [FN, TP]], got shape {got.shape}"
    alt = confusion_matrix(ref["y_test"], (s > 0.5).astype(int), labels=[0, 1])
    ok = np.array_equal(got, want) or np.array_equal(got, alt)
    return ok, f"confusion={got.tolist()}; at threshold 0.5: {want.tolist()}"


def _d1p1_private(v, ref):
    want, got, tol = probe_auroc(v, "torch_model", ref), as_float(v["auroc"], "auroc"), limit("auroc_tol")
    return abs(got - want) <= tol, (f"auroc={got:.4f}; torch_model on the grader's private sequences: {want:.4f} "
                                    f"(within {tol} expected)")


DAY1 = [
    practice_from_text(1, 1, [
        Check("test_scores are torch_model's test-set probabilities", 1, _d1p1_scores,
              needs=("test_scores", "torch_model"),
              hint="test_scores = wu.backend.predict_proba(torch_model, data.x_test): one probability per test "
                   "sequence."),
        Check("auroc matches test_scores", 1, _d1p1_auroc, needs=("test_scores", "auroc"),
              hint="Compute auroc from test_scores and data.y_test (sklearn.metrics.roc_auc_score)."),
        Check("aupr matches test_scores", 0.5, _d1p1_aupr, needs=("test_scores", "aupr"),
              hint="Use sklearn.metrics.average_precision_score(data.y_test, test_scores)."),
        Check("confusion matrix at 0.5", 0.5, _d1p1_confusion, needs=("test_scores", "confusion"),
              hint="sklearn.metrics.confusion_matrix(data.y_test, test_scores >= 0.5): [[TN, FP], [FN, TP]]."),
        figure_check("fig_eval", min_axes=2),
        answer_check("answer_p1", 30, ("auroc", "aupr", "precision", "recall", "false", "sensitiv", "specific")),
        Check("auroc is torch_model's AUROC on private data", 3, _d1p1_private,
              needs=("test_scores", "auroc", "torch_model"), private=True,
              hint="Report the AUROC torch_model really reaches: new sequences give about the same number."),
    ], torch_model=dict(split="test")),
]


def _d1p2_scores(v, ref):
    n = len(ref["y_test"])
    out = [_same_scores(v, f"{fw}_test_scores", f"{fw}_model", n) for fw in ("keras", "torch")]
    return all(ok for ok, _ in out), "; ".join(m for _, m in out)


def _d1p2_wrong(v, ref):
    n, y = len(ref["y_test"]), ref["y_test"]
    bad = []
    for fw in ("keras", "torch"):
        want = _wrong(y, _probabilities(v, f"{fw}_test_scores", n))
        got = _bool_vector(v, f"wrong_{fw}", n)
        if (got != want).sum() > max(1, n // 200):
            bad.append(f"wrong_{fw} differs from its scores on {(got != want).sum()} sequences")
    return not bad, "; ".join(bad) or "both mistake masks match the scores at threshold 0.5"


def _jaccard(a, b) -> float:
    either = (a | b).sum()
    return float((a & b).sum() / either) if either else 1.0


def _d1p2_jaccard(v, ref):
    n = len(ref["y_test"])
    want = _jaccard(_bool_vector(v, "wrong_keras", n), _bool_vector(v, "wrong_torch", n))
    got = as_float(v["mistake_jaccard"], "mistake_jaccard")
    return close(got, want, 1e-3), f"mistake_jaccard={got:.4f}; from the masks: {want:.4f}"


def _d1p2_learned(v, ref):
    thr, tol, bad, msg = limit("learned"), limit("auroc_tol"), [], []
    for fw in ("keras", "torch"):
        private = probe_auroc(v, f"{fw}_model", ref)
        own = _auroc(ref["y_test"], _probabilities(v, f"{fw}_test_scores", len(ref["y_test"])))
        msg.append(f"{fw}: {private:.3f} on private data, {own:.3f} from {fw}_test_scores")
        if private < thr or abs(own - private) > tol:
            bad.append(fw)
    return not bad, "; ".join(msg) + f" (each >= {thr} and within {tol} of each other expected)"


def _d1p2_private_jaccard(v, ref):
    y = probe_labels(ref, ref["probe"]["n"])
    masks = [_wrong(y, probe_scores(v, f"{fw}_model", ref)) for fw in ("keras", "torch")]
    want, got, tol = _jaccard(*masks), as_float(v["mistake_jaccard"], "mistake_jaccard"), limit("jaccard_tol")
    return abs(got - want) <= tol, (f"mistake_jaccard={got:.3f}; the two models on the grader's private sequences: "
                                    f"{want:.3f} (within {tol} expected)")


DAY1.append(practice_from_text(1, 2, [
    Check("both models scored the test set", 1, _d1p2_scores,
          needs=("keras_test_scores", "torch_test_scores", "keras_model", "torch_model"),
          hint="keras_test_scores = wu.backend.predict_proba(keras_model, data.x_test); the same for torch_model."),
    Check("mistake masks match the scores", 1, _d1p2_wrong,
          needs=("keras_test_scores", "torch_test_scores", "wrong_keras", "wrong_torch"),
          hint="wrong_keras = (keras_test_scores >= 0.5) != data.y_test"),
    Check("mistake_jaccard matches the masks", 1, _d1p2_jaccard,
          needs=("wrong_keras", "wrong_torch", "mistake_jaccard"),
          hint="(wrong_keras & wrong_torch).sum() / (wrong_keras | wrong_torch).sum()"),
    answer_check("answer_p2", 30, ("same", "overlap", "jaccard", "both", "shared", "chance", "independent")),
    Check("both models learned (private data)", 3, _d1p2_learned,
          needs=("keras_model", "torch_model", "keras_test_scores", "torch_test_scores"), private=True,
          hint="Train keras_model as in the lesson (Adam, binary cross-entropy, the lesson's epochs) and score "
               "the test set with the models themselves."),
    Check("mistake_jaccard holds on private data", 2, _d1p2_private_jaccard,
          needs=("keras_model", "torch_model", "mistake_jaccard"), private=True,
          hint="mistake_jaccard must be the overlap of the two models' own mistakes."),
], keras_model=dict(split="test"), torch_model=dict(split="test")))


def _callback(v, cls_part):
    return [c for c in v["callbacks_p3"] if cls_part.lower() in str(c.get("class", "")).lower()]


def _d1p3_early(v, ref):
    es = _callback(v, "EarlyStopping")
    if not es:
        return False, "no EarlyStopping in callbacks_p3"
    c = es[0]
    ok = str(c.get("monitor", "")).startswith("val_") and int(c.get("patience") or 0) >= 1
    return ok, f"EarlyStopping(monitor={c.get('monitor')!r}, patience={c.get('patience')})"


def _d1p3_checkpoint(v, ref):
    mc = _callback(v, "ModelCheckpoint")
    if not mc:
        return False, "no ModelCheckpoint in callbacks_p3"
    c = mc[0]
    ok = bool(c.get("save_best_only")) and str(c.get("monitor", "")).startswith("val_")
    return ok, f"ModelCheckpoint(monitor={c.get('monitor')!r}, save_best_only={c.get('save_best_only')})"


SCHEDULE_EPOCHS = 100  # lr_schedule is exported as its values at epochs 0..99, longer than any homework fit


def _d1p3_schedule(v, ref):
    sched = [c for c in v["callbacks_p3"] if c.get("has_schedule") or "ReduceLROnPlateau" in str(c.get("class"))]
    if not sched:
        return False, "no LearningRateScheduler or ReduceLROnPlateau in callbacks_p3"
    lrs = as_vector(v["lr_schedule"], SCHEDULE_EPOCHS, "lr_schedule(0..99)")[:10]
    ok = (lrs > 0).all() and (np.diff(lrs) <= 1e-12).all() and lrs[-1] < lrs[0]
    return ok, f"lr_schedule(0..9) = {np.round(lrs, 6).tolist()} (positive, non-increasing, decreasing overall)"


def _val_loss(v) -> np.ndarray:
    h = v["history_p3"]
    loss, val = as_vector(h["loss"], None, "loss"), as_vector(h["val_loss"], None, "val_loss")
    if len(loss) != len(val) or len(val) < 1:
        raise ValueError("history_p3 needs 'loss' and 'val_loss' lists of the same length")
    return val


def _d1p3_history(v, ref):
    val = _val_loss(v)
    best = int(as_float(v["best_epoch"], "best_epoch"))
    return best == int(np.argmin(val)), f"best_epoch={best}; argmin of val_loss: {int(np.argmin(val))} (0-based)"


def _d1p3_private_loss(v, ref):
    best, tol = float(np.min(_val_loss(v))), limit("loss_tol")
    got = _bce(probe_labels(ref, ref["probe"]["n"]), probe_scores(v, "model_p3", ref))
    restored = as_float(v["restored_val_loss"], "restored_val_loss")
    ok = abs(got - best) <= tol and abs(restored - best) <= tol
    return ok, (f"model_p3's loss on the grader's private sequences {got:.4f}, best val_loss of the history "
                f"{best:.4f}, restored_val_loss {restored:.4f} (within {tol} of each other expected)")


DAY1.append(practice_from_text(1, 3, [
    Check("early stopping on a validation metric", 1, _d1p3_early, needs=("callbacks_p3",),
          hint="keras.callbacks.EarlyStopping(monitor='val_loss', patience=2)"),
    Check("checkpoint of the best weights", 1, _d1p3_checkpoint, needs=("callbacks_p3",),
          hint="keras.callbacks.ModelCheckpoint('best.weights.h5', monitor='val_loss', save_best_only=True, "
               "save_weights_only=True)"),
    Check("learning-rate schedule", 1, _d1p3_schedule, needs=("callbacks_p3", "lr_schedule"),
          hint="keras.callbacks.LearningRateScheduler(lambda epoch, lr: lr_schedule(epoch)) with a decreasing "
               "lr_schedule(epoch)."),
    Check("best_epoch read from the history", 0.5, _d1p3_history, needs=("history_p3", "best_epoch"),
          hint="best_epoch = int(np.argmin(history.history['val_loss']))"),
    Check("the restored model has the best loss on private data", 3, _d1p3_private_loss,
          needs=("history_p3", "restored_val_loss", "model_p3"), private=True,
          hint="model_p3.load_weights(...) of the best checkpoint: its loss on new sequences is the best val_loss."),
], lr_schedule=dict(probe=tuple((e,) for e in range(SCHEDULE_EPOCHS))), model_p3=dict(split="valid")))


def _rows_p4(v):
    rows = v["p4_results"]
    if not isinstance(rows, list) or not rows:
        raise ValueError("p4_results must be a non-empty table")
    out = []
    for r in rows:
        out.append({"optimizer": str(r["optimizer"]).lower(), "lr": float(r["lr"]),
                    "batch_size": int(r["batch_size"]), "val_auroc": float(r["val_auroc"])})
    return out


def _d1p4_grid(v, ref):
    rows = _rows_p4(v)
    have = {("sgd" if "sgd" in r["optimizer"] else "adam" if "adam" in r["optimizer"] else r["optimizer"],
             round(r["lr"], 6)) for r in rows}
    want = {(o, lr) for o in ("sgd", "adam") for lr in (0.1, 0.01, 0.001)}
    lacking = sorted(want - have)
    return not lacking, f"missing (optimizer, lr): {lacking}" if lacking else "all 6 optimizer x lr settings"


def _d1p4_batch(v, ref):
    rows = _rows_p4(v)
    sizes = sorted({r["batch_size"] for r in rows})
    aur = [r["val_auroc"] for r in rows]
    ok = len(sizes) >= 2 and all(0 <= a <= 1 for a in aur)
    return ok, f"batch sizes {sizes}; val_auroc in [{min(aur):.3f}, {max(aur):.3f}]"


def _d1p4_best(v, ref):
    rows = _rows_p4(v)
    top = max(rows, key=lambda r: r["val_auroc"])
    b = v["best_setting"]
    ok = (str(b["optimizer"]).lower() == top["optimizer"] and close(float(b["lr"]), top["lr"], 1e-9)
          and int(b["batch_size"]) == top["batch_size"])
    return ok, f"best_setting={b}; best row of p4_results: {top}"


def _d1p4_private(v, ref):
    top, tol = max(r["val_auroc"] for r in _rows_p4(v)), limit("table_tol")
    got = probe_auroc(v, "best_model_p4", ref)
    return abs(got - top) <= tol, (f"best val_auroc of p4_results {top:.4f}; best_model_p4 on the grader's private "
                                   f"sequences {got:.4f} (within {tol} expected)")


DAY1.append(practice_from_text(1, 4, [
    Check("SGD and Adam at lr 0.1, 0.01, 0.001", 1, _d1p4_grid, needs=("p4_results",),
          hint="Rows with optimizer 'sgd'/'adam' and lr 0.1, 0.01, 0.001 (6 runs at one batch size)."),
    Check("two or more batch sizes", 1, _d1p4_batch, needs=("p4_results",),
          hint="Repeat your best optimizer/lr with another batch size, and add those rows."),
    Check("best_setting is the best row", 1, _d1p4_best, needs=("p4_results", "best_setting"),
          hint="best = p4_results.loc[p4_results.val_auroc.idxmax()]"),
    figure_check("fig_p4", min_axes=1, min_artists=2),
    answer_check("answer_p4", 30, ("learning rate", "lr", "adam", "sgd", "batch")),
    Check("the best run's AUROC holds on private data", 3, _d1p4_private, needs=("p4_results", "best_model_p4"),
          private=True,
          hint="Keep the model of each run; best_model_p4 is the one of the best row, and its val_auroc is that "
               "model's (e.g. the epoch whose weights fit() restored)."),
], best_model_p4=dict(split="valid")))


def _d1p5_auroc(v, ref):
    s = _probabilities({"s": v["my_model"]["scores"]}, "s", len(ref["y_valid"]))
    want, got = _auroc(ref["y_valid"], s), as_float(v["my_val_auroc"], "my_val_auroc")
    return close(got, want, 2e-3), f"my_val_auroc={got:.4f}; my_model on the validation set: {want:.4f}"


def _d1p5_baseline(v, ref):
    s = _probabilities({"s": v["baseline_model"]["scores"]}, "s", len(ref["y_valid"]))
    want, got = _auroc(ref["y_valid"], s), as_float(v["baseline_val_auroc"], "baseline_val_auroc")
    return close(got, want, 2e-3), f"baseline_val_auroc={got:.4f}; baseline_model on the validation set: {want:.4f}"


def _d1p5_new(v, ref):
    a, b = v["my_model"], v["baseline_model"]
    ok = a["n_params"] != b["n_params"]
    return ok, f"my_model has {a['n_params']} parameters, the baseline {b['n_params']}"


def _d1p5_beats(v, ref):
    mine, base = probe_auroc(v, "my_model", ref, "all"), probe_auroc(v, "baseline_model", ref, "all")
    floor, margin = limit("baseline_floor"), limit("beat_margin")
    bar = max(base, floor) + margin
    return mine >= bar, (f"on the grader's private sequences my_model {mine:.4f}, baseline_model {base:.4f}; "
                         f"the bar is max(baseline, {floor}) + {margin} = {bar:.4f}")


DAY1.append(practice_from_text(1, 5, [
    Check("my_val_auroc matches my_model", 1, _d1p5_auroc, needs=("my_model", "my_val_auroc"),
          hint="my_val_auroc = roc_auc_score(data.y_valid, wu.backend.predict_proba(my_model, data.x_valid))"),
    Check("baseline_val_auroc is the baseline's", 1, _d1p5_baseline,
          needs=("my_model", "baseline_model", "baseline_val_auroc"),
          hint="Keep the top cell's baseline_model and baseline_val_auroc as they are."),
    Check("a new architecture", 1, _d1p5_new, needs=("my_model", "baseline_model"),
          hint="Change the architecture (filters, layers, pooling, dropout...), not only the training."),
    answer_check("answer_p5", 30, ("filter", "layer", "kernel", "dropout", "param", "pool", "dense", "conv")),
    Check("my_model beats the baseline on private data", 4, _d1p5_beats, needs=("my_model", "baseline_model"),
          private=True,
          hint="my_model must rank new sequences better than the lesson's baseline does (validate with "
               "data.x_valid; the grader uses sequences you never see)."),
], my_model=dict(split="valid", large_probe=True), baseline_model=dict(split="valid", large_probe=True)))
