"""Does the REINFORCE controller find better CTCF architectures than random search?

Both searches get the same trial budget on the course space (378 arcs) and the same
child training (a subset of the full training data, a few epochs, early stopping;
reward = validation AUROC), for several seeds.  Each arc is trained once per run of
this script and its reward is shared by every search that draws it (the child always
starts from the same seed, so an arc's reward does not depend on who drew it); this
keeps the comparison fair and the run affordable.  It prints, per method, the mean and
spread (std, min, max) of the best validation AUROC found, and how many distinct arcs
each search trained.

    python benchmarks/nas_controller_vs_random.py [--trials 24] [--seeds 0 1 2] [--n-train 8000]
        [--epochs 3] [--out build/nas_benchmark.csv]

Full-mode data (50k/5k/5k) is used unless WORKSHOP_QUICK=1.

Measured with the defaults (24 trials, seeds 0 1 2, 8000 sequences, <= 3 epochs; 123
distinct arcs trained, 20 min wall time on the shared 2-core machine): best validation
AUROC controller 0.789 +- 0.013 (0.777-0.803), random 0.771 +- 0.013 (0.763-0.786); mean
reward of the second half of each search 0.694 vs 0.663.  Three seeds: a hint that the
controller helps, not proof.
"""
from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import workshop_utils as wu  # noqa: E402
from workshop_utils import nas  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=24)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--n-train", type=int, default=8000)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--out", default=None, help="CSV with one row per (method, seed)")
    args = ap.parse_args()
    if len(args.seeds) < 3:
        ap.error("--seeds: give at least 3 seeds")

    import warnings

    warnings.filterwarnings("ignore", message="The structure of `inputs`")
    data = wu.load_ctcf()
    sub = (data.x_train[:args.n_train], data.y_train[:args.n_train], data.x_valid, data.y_valid)
    space = nas.course_model_space()
    builder = nas.SequentialModelBuilder(nas.Operation("input", shape=(200, 4)),
                                         nas.Operation("dense", units=1, activation="sigmoid"), space,
                                         {"loss": "binary_crossentropy", "optimizer": "adam",
                                          "learning_rate": 1e-3}, backend="keras")
    evaluate = nas.cnn_evaluator(builder, sub, epochs=args.epochs, patience=1, batch_size=128, seed=0)
    memo: dict[tuple[int, ...], dict] = {}
    train_seconds = [0.0]

    def shared(arc):
        key = tuple(arc)
        if key not in memo:
            t0 = time.perf_counter()
            memo[key] = evaluate(arc)
            train_seconds[0] += time.perf_counter() - t0
        return memo[key]

    rows = []
    t_start = time.perf_counter()
    for seed in args.seeds:
        for method, make in (("controller", lambda s: nas.GeneralController(space, seed=s)),
                             ("random", lambda s: nas.RandomController(space, seed=s))):
            hist = nas.search(make(seed), shared, n_trials=args.trials, progress=False)
            t = hist.table
            rows.append({"method": method, "seed": seed, "best_val_auroc": hist.best_reward,
                         "best_arc": hist.best_arc, "best_ops": space.describe(hist.best_arc),
                         "distinct_arcs": int(t["arc"].map(tuple).nunique()),
                         "mean_reward_last_half": float(t["reward"].iloc[len(t) // 2:].mean())})
            r = rows[-1]
            print(f"seed {seed} {method:10s} best {r['best_val_auroc']:.4f} ({r['best_ops']}), "
                  f"{r['distinct_arcs']} distinct arcs, mean reward of the last half {r['mean_reward_last_half']:.4f}",
                  flush=True)
    df = pd.DataFrame(rows)
    print(f"\n{args.trials} trials per search, seeds {args.seeds}, children: {args.n_train} training sequences, "
          f"<= {args.epochs} epochs; {len(memo)} distinct arcs trained in {train_seconds[0]:.0f} s "
          f"(total {time.perf_counter() - t_start:.0f} s)")
    all_rewards = np.array([m["reward"] for m in memo.values()])
    print(f"over all {len(memo)} arcs trained: reward max {all_rewards.max():.4f}, "
          f"median {np.median(all_rewards):.4f}")
    summary = df.groupby("method").agg(mean=("best_val_auroc", "mean"), std=("best_val_auroc", "std"),
                                       min=("best_val_auroc", "min"), max=("best_val_auroc", "max"),
                                       mean_last_half=("mean_reward_last_half", "mean"),
                                       distinct_arcs=("distinct_arcs", "mean"))
    print("\nbest validation AUROC found (mean, std, min, max over seeds):")
    print(summary.round(4).to_string())
    if args.out:
        os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
        df.to_csv(args.out, index=False)
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
