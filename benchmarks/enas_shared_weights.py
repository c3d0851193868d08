"""ENAS on PBMC: scoring a child with shared weights vs training it from scratch.

Measured side by side in one run, on the PBMC cell-type task of
``notebooks/day2_04_autogenome_automl.ipynb`` (same split, same scaling):

1. an ENAS search (warm-up + controller trials) trains the supernet;
2. ``--n-arcs`` distinct children drawn uniformly from the dense space are each
   (a) scored with the shared weights (one forward pass on the validation cells) and
   (b) built fresh, trained from scratch with early stopping and scored the same way;
3. printed: the cost of (a) and (b) per child and their ratio (claim: >= 10x cheaper),
   the amortised cost of the search per child it scored, and the Spearman rank
   correlation between shared-weight scores and from-scratch scores (reported, not asserted).

    python benchmarks/enas_shared_weights.py [--n-arcs 16] [--n-trials 200] [--seed 0]

Runs on one torch thread (these networks are tiny; on a busy 2-core machine a second
thread only adds contention), so timings are pessimistic when the machine is shared.
"""
from __future__ import annotations

import argparse
import time

import numpy as np
from scipy.stats import spearmanr
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from workshop_utils.expression_data import load_pbmc
from workshop_utils.nas.dense import build_dense, dense_model_space, fit_dense, macro_f1, predict_logits
from workshop_utils.nas.enas import enas_search, score_shared


def pbmc_split(seed: int = 0):
    """Stratified train/valid/test (56/19/25 %) of PBMC, standardised on the training cells."""
    data = load_pbmc()
    X, y = data.X, data.label_codes()
    X_rest, X_test, y_rest, y_test = train_test_split(X, y, test_size=0.25, stratify=y, random_state=seed)
    X_train, X_valid, y_train, y_valid = train_test_split(X_rest, y_rest, test_size=0.25, stratify=y_rest,
                                                          random_state=seed)
    scaler = StandardScaler().fit(X_train)

    def scale(a):
        return np.clip(scaler.transform(a), -10, 10).astype(np.float32)

    return scale(X_train), y_train, scale(X_valid), y_valid, scale(X_test), y_test


def main() -> None:
    import torch

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-arcs", type=int, default=16)
    ap.add_argument("--n-trials", type=int, default=200)
    ap.add_argument("--warmup-steps", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(1)

    X_train, y_train, X_valid, y_valid, _, _ = pbmc_split(args.seed)
    space = dense_model_space()
    print(f"PBMC: train {len(X_train)}, valid {len(X_valid)} cells x {X_train.shape[1]} genes; "
          f"space of {space.size} networks")

    t0 = time.perf_counter()
    res = enas_search(space, X_train, y_train, X_valid, y_valid, n_trials=args.n_trials,
                      warmup_steps=args.warmup_steps, steps_per_trial=10, seed=args.seed, progress=False)
    search_s = time.perf_counter() - t0
    print(f"ENAS search: {search_s:.1f} s ({res.seconds['warmup']:.1f} s warm-up, {args.n_trials} trials), "
          f"best child by shared weights: {space.describe(res.best_arc)} (valid macro F1 {res.best_score:.3f})")

    rng = np.random.default_rng(args.seed + 1)
    arcs: list[list[int]] = []
    while len(arcs) < args.n_arcs:
        arc = [int(rng.integers(n)) for n in space.choices]
        if arc not in arcs:
            arcs.append(arc)

    shared, scratch, t_shared, t_scratch = [], [], [], []
    for i, arc in enumerate(arcs):
        t0 = time.perf_counter()
        shared.append(score_shared(res.supernet, arc, X_valid, y_valid))
        t_shared.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        model = build_dense(space, arc, X_train.shape[1], int(y_train.max()) + 1, seed=args.seed)
        fit_dense(model, X_train, y_train, X_valid, y_valid, epochs=200, patience=20, weight_decay=1e-2,
                  seed=args.seed)
        scratch.append(macro_f1(y_valid, predict_logits(model, X_valid)))
        t_scratch.append(time.perf_counter() - t0)
        print(f"  {i + 1:2d}/{len(arcs)} {space.describe(arc):60s} shared {shared[-1]:.3f} "
              f"({t_shared[-1] * 1e3:6.1f} ms)   scratch {scratch[-1]:.3f} ({t_scratch[-1]:5.2f} s)")

    per_shared, per_scratch = float(np.median(t_shared)), float(np.median(t_scratch))
    amortised = search_s / args.n_trials
    rho, p = spearmanr(shared, scratch)
    print(f"\nscoring a child with shared weights: {per_shared * 1e3:.1f} ms (median)")
    print(f"training + scoring it from scratch:  {per_scratch:.2f} s (median)")
    print(f"ratio: {per_scratch / per_shared:.0f}x cheaper with shared weights (claim: >= 10x)")
    print(f"amortised over the search (supernet training included): {amortised:.2f} s per child scored "
          f"-> {per_scratch / amortised:.1f}x cheaper than from scratch")
    print(f"Spearman rank correlation, shared-weight vs from-scratch valid macro F1 over {len(arcs)} children: "
          f"rho = {rho:.2f} (p = {p:.2g})")
    assert per_scratch / per_shared >= 10, "shared-weight scoring should be >= 10x cheaper than from scratch"


if __name__ == "__main__":
    main()
