"""ENAS: does a child's shared-weight score rank it like training it from scratch does?

Measured side by side in one run, on one data set:

1. **seed noise**: each of the first ``--noise-children`` random children is trained from
   scratch with ``--noise-seeds`` seeds (initial weights and minibatch order); the pooled
   std of their validation macro F1 (root mean of the per-child variances) is the noise of
   a single from-scratch score;
2. ``--n-arcs`` distinct children drawn uniformly from the space are each
   (a) scored with the shared weights of an ENAS search (uniform warm-up of
   ``--warmup-steps`` minibatches, then ``--n-trials`` controller trials; one forward pass
   on the validation cells per score) and (b) built fresh, trained from scratch with early
   stopping and scored the same way; the std of (b) over children is the **spread**;
3. printed: spread / noise (children really differ when >= 3), the Spearman rank
   correlation between (a) and (b) over all children and over the children with at least
   one nonlinear layer (the per-layer space contains linear models, which are easy to
   rank last), the cost of (a) and (b) per child (asserted: (a) >= 10x cheaper);
4. printed (``nas.enas.rank_agreement`` and ``nas.enas.regret``): the Spearman correlation
   again among the children that learn (from-scratch F1 > 0.4) and among the best (> 0.5,
   ``--thresholds``), with the mean gap between from-scratch and shared-weight F1 in each
   subset, and the **regret**: how far the child that the shared weights rank first (or the
   best of their top 3, retrained) falls below the best from-scratch child.

Data (``--data``): ``programs`` (default), ``simulate_gene_programs`` of
:mod:`workshop_utils.expression_data` (``--n-cells`` cells x 200 genes, 16 cell types that
are XOR rules of ``--n-programs`` 8 gene programs, program loading 1.0, 20 genes per program;
split 2/3 train, 1/3 validation); ``pbmc``, the 700-cell PBMC split of
``notebooks/day2_04_autogenome_automl.ipynb``.  Space (``--space``): ``layerwise``
(``layerwise_model_space()``: 3 layers, each with width 8/32/128, activation
relu/tanh/linear and skip connections; 5,832 children) or ``family``
(``dense_model_space()``: mlp/resnet/densenet x width x depth x activation x dropout; 243).

    python benchmarks/enas_shared_weights.py [--data programs|pbmc] [--space layerwise|family]
        [--n-arcs 24] [--warmup-steps 3000] [--n-trials 100] [--noise-children 3] [--noise-seeds 3]
        [--scratch-seeds 1] [--n-cells 6000] [--n-programs 8] [--loading 1.0] [--seed 0]

Runs on one torch thread (these networks are tiny; on a busy 2-core machine a second
thread only adds contention), so timings are pessimistic when the machine is shared.

Measured 2026-11-30 on the shared 2-core machine (load average 4-7: 2-7 min per run,
8 min for the wider family space; about 2 min at load 3), defaults unless named.
rho: Spearman over all 24 children (over those with a nonlinear layer); spread: std of
the from-scratch scores over children; noise: pooled std over 3 children x 3 seeds
(median child's std in brackets):

===================================  ===========  ========  ===============  ==============
run                                  rho          spread    noise            spread / noise
===================================  ===========  ========  ===============  ==============
--seed 0                             0.79 (0.77)  0.152     0.102 (0.082)    1.5 (1.8)
--seed 1                             0.64 (0.59)  0.141     0.046 (0.015)    3.1 (9.4)
--seed 2                             0.72 (0.68)  0.166     0.051 (0.038)    3.2 (4.4)
--seed 3                             0.82 (0.82)  0.183     0.072 (0.018)    2.6 (10.0)
--seed 4                             0.74 (0.74)  0.178     0.030 (0.034)    5.8 (5.2)
--seed 5                             0.78 (0.73)  0.194     0.040 (0.016)    4.9 (12.0)
--seed 6 (*)                         0.75 (0.75)  0.150     0.050 (0.048)    2.97 (3.1)
--seed 7 (*)                         0.77 (0.77)  0.169     0.044 (0.037)    3.9 (4.5)
--seed 8 (*)                         0.82 (0.82)  0.223     0.009 (0.009)    24.5 (23.9)
--seed 9 (*)                         0.61 (0.61)  0.146     0.018 (0.006)    8.3 (24.0)
--seed 1 --warmup-steps 300          0.04 (0.03)  0.141     0.046            3.1
--seed 1 --n-cells 1500              0.74 (0.72)  0.125     0.038            3.2
--seed 1 --space family              0.29         0.027     0.004 (0.004)    6.4 (6.8)
--data pbmc --space family           -0.03        0.030     0.013            2.3
--data pbmc --space family --seed 1  -0.31        0.036     0.026            1.4
--data pbmc --space family --seed 2  -0.12        0.032     0.030            1.1
--data pbmc                          0.44 (0.44)  0.039     0.050 (0.044)    0.8 (0.9)
===================================  ===========  ========  ===============  ==============

What mattered:

* **The warm-up.** 300 uniform warm-up steps (each shared layer trained ~30-100 times)
  give rho 0.04; 3,000 give 0.64 on the same seed.  (8,000 steps did not help further on
  the 6-program variant below: 0.62/0.58/0.46 vs 0.70/0.50/0.46 for seeds 0/1/2.)
* **The data.** On PBMC (132 validation cells) children are within noise of each other
  (spread / noise 2.3, 1.4, 1.1 for seeds 0-2) and rho is -0.03, -0.31, -0.12.  On the
  gene-program cells children really differ: linear-only children are at chance, narrow or
  tanh-then-linear paths learn one to three of the four XOR bits, the rest reach the
  ceiling (~0.6).  With 6 programs
  (``--n-programs 6``: 8 types) most nonlinear children reach the ceiling (~0.72) and are
  within noise of each other, and rho fell to 0.70/0.50/0.46 (seeds 0/1/2); 8 programs
  grade the children and rho rose to 0.79/0.64/0.72/0.82/0.74/0.78 (seeds 0-5).  Fewer
  cells (1,500) did not hurt the ranking (0.74): every child is then worse, the order stays.
* **The space.** In the per-layer space a main-path weight is shared by every child with
  the same widths at that layer (1/3 or 1/9 of all children) and activations have no
  weights; the family space splits its weights by family and width (and densenet heads by
  depth).  On the same cells (seed 1) the family space's children differ (spread / noise
  6.4) but its shared weights rank them worse: rho 0.29 (p = 0.17) vs 0.64.  Two other
  sharings were tried on the 6-program variant (uniform warm-up only, 3,000-8,000 steps,
  seeds 0-2): keying weights also by activation (111 instead of 39 layers) gave rho
  0.39-0.51, one weight per position sliced to the child's widths (weight entanglement)
  0.45-0.61, the keys used here 0.41-0.64: none clearly better, so the simplest (one weight
  per connection and widths) stays.
* **The noise of training from scratch** limits the yardstick too:
  some children (a tanh layer followed by linear or 8-unit layers) sometimes escape the
  plateau of the XOR rules and sometimes not (e.g. 0.35/0.36/0.63 over three seeds).  The
  pooled std is dominated by such a child (seed 0: spread / noise 1.5, the median child's
  std gives 1.8); on seeds 1-9 the spread is 2.6-24.5 times the pooled noise (3 or more on
  7 of seeds 0-9) and 3.1-24 times the median child's.  Pooled over seeds 0-9 (30 children x
  3 seeds) the noise is 0.053 and the mean spread 0.170: 3.2 times.  More noise children do
  not change the picture: ``--noise-children 8`` gives 2.4, 2.5 and 2.9 on seeds 0, 3 and 6
  (the pooled std stays 0.05-0.07: about one child in four is such a plateau child).
  ``--scratch-seeds 2`` averages two trainings per child (at twice the cost).

Among the children that learn, shared weights rank far worse (measured 2026-12-05 on the
shared machine, defaults; seed 0 at load 8-12 in 513 s, seeds 10 and 11 at load 2-4 in 87 and
173 s; seed 0 rerun after ``macro_f1`` moved to numpy: every score the same):

===========  ===========  =====================  =====================  ========  ===========
run          rho (all)    rho (scratch > 0.4)    rho (scratch > 0.5)    gap       regret top1
===========  ===========  =====================  =====================  ========  ===========
--seed 0     0.76         0.38 (n 15, p 0.16)    -0.21 (n 12, p 0.51)   0.32      0.025
--seed 10    0.75         0.49 (n 16, p 0.057)   0.23 (n 14, p 0.43)    0.31      0.030
--seed 11    0.72         0.43 (n 18, p 0.072)   0.38 (n 17, p 0.14)    0.32      0.018
===========  ===========  =====================  =====================  ========  ===========

(gap: mean from-scratch minus shared-weight F1 among the learners; regret: best from-scratch F1
minus that of the child the shared weights rank first; retraining their top 3 gives 0.022,
0.000, 0.018.)  The regret is small because the children above 0.5 all sit within about 0.1 of
each other (0.53-0.64 on seed 0).  Shared weights tell the children that cannot learn from those
that can, not the good from the best.  (Seed 0's rho over all children, 0.76, differs from the
0.79 in the table above: same command, this run's value.)

(*) measured 2026-12-01 on the idle machine, 65-70 s per run, together with a rerun of seeds
0-5 that reproduced the rows above (rho, spread and noise to the printed digit).
"""
from __future__ import annotations

import argparse
import time

import numpy as np
from scipy.stats import spearmanr
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from workshop_utils.expression_data import load_pbmc, simulate_gene_programs
from workshop_utils.nas.dense import (arc_spec, build_dense, dense_model_space, fit_dense, layerwise_model_space,
                                      macro_f1, predict_logits)
from workshop_utils.nas.enas import enas_search, rank_agreement, regret, score_shared


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


def programs_split(n_cells: int = 6000, seed: int = 0, loading: float = 1.0, n_programs: int = 6):
    """Gene-program cells (the simulation of seed ``seed``): 2/3 train, 1/3 valid, standardised on train."""
    data = simulate_gene_programs(n_cells, n_genes=200, n_programs=n_programs, genes_per_program=20, loading=loading,
                                  seed=seed)
    X, y = data.X, data.label_codes()
    X_train, X_valid, y_train, y_valid = train_test_split(X, y, test_size=1 / 3, stratify=y, random_state=seed)
    scaler = StandardScaler().fit(X_train)
    return (scaler.transform(X_train).astype(np.float32), y_train,
            scaler.transform(X_valid).astype(np.float32), y_valid)


def is_linear(spec) -> bool:
    """A child without any nonlinearity (a linear model), in either space."""
    acts = getattr(spec, "activations", None) or (spec.activation,)
    return all(a == "linear" for a in acts)


def main() -> None:
    import torch

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", choices=("programs", "pbmc"), default="programs")
    ap.add_argument("--space", choices=("layerwise", "family"), default="layerwise")
    ap.add_argument("--n-arcs", type=int, default=24)
    ap.add_argument("--n-trials", type=int, default=100)
    ap.add_argument("--warmup-steps", type=int, default=3000)
    ap.add_argument("--noise-seeds", type=int, default=3)
    ap.add_argument("--noise-children", type=int, default=3)
    ap.add_argument("--scratch-seeds", type=int, default=1,
                    help="a child's from-scratch score is its mean over this many training seeds")
    ap.add_argument("--n-cells", type=int, default=6000, help="programs data only")
    ap.add_argument("--loading", type=float, default=1.0, help="programs data only")
    ap.add_argument("--n-programs", type=int, default=8, help="programs data only")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--thresholds", type=float, nargs="*", default=[0.4, 0.5],
                    help="rho is also reported among the children whose from-scratch F1 exceeds each")
    args = ap.parse_args()
    torch.set_num_threads(1)
    t_start = time.perf_counter()

    if args.data == "pbmc":
        X_train, y_train, X_valid, y_valid, _, _ = pbmc_split(args.seed)
        batch, patience, lr, monitor = 64, 20, 1e-3, "val_loss"   # the lesson's settings for 392 training cells
    else:
        X_train, y_train, X_valid, y_valid = programs_split(args.n_cells, args.seed, args.loading, args.n_programs)
        # XOR rules: a network may sit on a plateau for a while before it finds them, so a patient
        # early stopping on the F1 (patience 10 on the loss stopped some children on the plateau)
        batch, patience, lr, monitor = 128, 30, 3e-3, "val_f1"
    space = layerwise_model_space() if args.space == "layerwise" else dense_model_space()
    n_features, n_classes = X_train.shape[1], int(y_train.max()) + 1
    print(f"{args.data}: train {len(X_train)}, valid {len(X_valid)} cells x {n_features} genes, {n_classes} types; "
          f"{args.space} space of {space.size} networks; seed {args.seed}")

    def scratch_score(arc, seed):
        model = build_dense(space, arc, n_features, n_classes, seed=seed)
        fit_dense(model, X_train, y_train, X_valid, y_valid, epochs=200, batch_size=batch, patience=patience,
                  lr=lr, weight_decay=1e-2, monitor=monitor, seed=seed)
        return macro_f1(y_valid, predict_logits(model, X_valid))

    t0 = time.perf_counter()
    res = enas_search(space, X_train, y_train, X_valid, y_valid, n_trials=args.n_trials,
                      warmup_steps=args.warmup_steps, steps_per_trial=10, batch_size=batch, lr=lr, seed=args.seed,
                      progress=False)
    search_s = time.perf_counter() - t0
    print(f"ENAS search: {search_s:.1f} s ({res.seconds['warmup']:.1f} s warm-up of {args.warmup_steps} steps, "
          f"{args.n_trials} trials), best child by shared weights: {arc_spec(space, res.best_arc)} "
          f"(valid macro F1 {res.best_score:.3f})")

    arcs = space.random_arcs(args.n_arcs, seed=args.seed + 1)

    seed_scores = {}
    for j in range(args.noise_children):
        seed_scores[j] = [scratch_score(arcs[j], s) for s in range(max(args.noise_seeds, args.scratch_seeds))]
        print(f"seed noise: child {j + 1} {str(arc_spec(space, arcs[j])):40s} from scratch with seeds "
              f"0..{args.noise_seeds - 1}: {' '.join(f'{v:.3f}' for v in seed_scores[j])} "
              f"(std {np.std(seed_scores[j], ddof=1):.4f})")
    # pooled within-child std (root mean of the per-child variances)
    noise = float(np.sqrt(np.mean([np.var(v[:args.noise_seeds], ddof=1) for v in seed_scores.values()])))
    noise_mean = noise / np.sqrt(args.scratch_seeds)     # the noise of a mean over scratch_seeds runs
    # a child whose training sometimes escapes a plateau and sometimes not dominates the pooled std: the median
    # child's std says what a typical child's noise is
    noise_median = float(np.median([np.std(v[:args.noise_seeds], ddof=1) for v in seed_scores.values()]))

    shared, scratch, t_shared, t_scratch, linear = [], [], [], [], []
    for i, arc in enumerate(arcs):
        spec = arc_spec(space, arc)
        linear.append(is_linear(spec))
        t0 = time.perf_counter()
        shared.append(score_shared(res.supernet, arc, X_valid, y_valid))
        t_shared.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        runs = seed_scores[i] if i in seed_scores else [scratch_score(arc, s) for s in range(args.scratch_seeds)]
        scratch.append(float(np.mean(runs[:args.scratch_seeds])))
        t_scratch.append(time.perf_counter() - t0)
        print(f"  {i + 1:2d}/{len(arcs)} {str(spec):55s} shared {shared[-1]:.3f} "
              f"({t_shared[-1] * 1e3:6.1f} ms)   scratch {scratch[-1]:.3f} ({t_scratch[-1]:5.2f} s)")

    spread = float(np.std(scratch, ddof=1))
    rho, p = spearmanr(shared, scratch)
    nonlin = [i for i, lin in enumerate(linear) if not lin]
    rho_nl, p_nl = spearmanr([shared[i] for i in nonlin], [scratch[i] for i in nonlin])
    per_shared, per_scratch = (float(np.median(t_shared)),
                               float(np.median(t_scratch[args.noise_children:])) / args.scratch_seeds)
    amortised = search_s / args.n_trials
    print(f"\nfrom-scratch valid macro F1 over {len(arcs)} children: {min(scratch):.3f} .. {max(scratch):.3f}, "
          f"spread (std) {spread:.4f}; seed noise (pooled std over {args.noise_children} children x "
          f"{args.noise_seeds} seeds) {noise:.4f}; spread / noise = {spread / noise:.1f} "
          f"(children really differ when >= 3); median child's std {noise_median:.4f} "
          f"(spread / that = {spread / noise_median:.1f})"
          + (f"; the noise of a score averaged over {args.scratch_seeds} seeds is {noise_mean:.4f}"
             if args.scratch_seeds > 1 else ""))
    print(f"Spearman rank correlation, shared-weight vs from-scratch valid macro F1 over {len(arcs)} children: "
          f"rho = {rho:.2f} (p = {p:.2g})")
    print(f"  over the {len(nonlin)} children with a nonlinear layer: rho = {rho_nl:.2f} (p = {p_nl:.2g})")
    # a rho over all children is easy when some cannot learn at all; what a search needs is the order
    # among the children that learn, and how much the pick loses against the best child
    agreement = rank_agreement(shared, scratch, thresholds=args.thresholds)
    print("  among the children that learn (shared-weight vs from-scratch valid macro F1):")
    for name, row in agreement.iterrows():
        print(f"    {name:22s} n = {row['n']:2d}  rho = {row['spearman']:5.2f} (p = {row['p']:.2g})  "
              f"mean gap (scratch - shared) {row['mean gap']:+.3f}")
    best_scratch = int(np.argmax(scratch))
    for top in (1, 3):
        print(f"regret of retraining the top {top} by shared weights: {regret(shared, scratch, top=top):.3f} "
              f"(best from-scratch child {max(scratch):.3f}: {arc_spec(space, arcs[best_scratch])})")
    print(f"scoring a child with shared weights: {per_shared * 1e3:.1f} ms (median); training + scoring it from "
          f"scratch: {per_scratch:.2f} s (median): {per_scratch / per_shared:.0f}x cheaper (claim: >= 10x)")
    print(f"amortised over the search (supernet training included): {amortised:.2f} s per child scored "
          f"-> {per_scratch / amortised:.1f}x cheaper than from scratch")
    print(f"total {time.perf_counter() - t_start:.0f} s")
    assert per_scratch / per_shared >= 10, "shared-weight scoring should be >= 10x cheaper than from scratch"


if __name__ == "__main__":
    main()
