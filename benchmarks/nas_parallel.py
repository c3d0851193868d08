"""Architecture search with a 2-process executor vs serial, side by side in one run.

    .venv/bin/python benchmarks/nas_parallel.py [--trials 16] [--workers 2] [--backend torch]

The same search twice (the course space, the lesson's LSTM controller with 8 arcs per update,
children trained on the lesson's quick-mode data unless WORKSHOP_QUICK=0): once evaluating the
children one after the other, once through ``nas.process_pool(workers)``. It prints both wall
times, the ratio (target >= 1.4x on 2 cores), whether the two searches drew the same arcs (they
must: same seed, same batch) and how far their rewards differ (a worker trains with fewer
threads than the serial run, which changes float rounding: about 1e-6 of AUROC), and the load
average before and after (how busy the machine was).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--trials", type=int, default=16)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--backend", choices=("torch", "keras"), default="keras", help="the lesson's children are Keras")
    ap.add_argument("--batch", type=int, default=8, help="arcs per controller update (default 8)")
    ap.add_argument("--threads", type=int, default=None, help="threads per worker (default cores / workers)")
    args = ap.parse_args()
    os.environ.setdefault("WORKSHOP_QUICK", "1")
    import numpy as np

    import workshop_utils as wu
    from workshop_utils import nas

    data = wu.load_ctcf()
    n = wu.pick(full=8000, quick=1000)
    space = nas.course_model_space()
    builder = nas.SequentialModelBuilder(nas.Operation("input", shape=(200, 4)),
                                         nas.Operation("dense", units=1, activation="sigmoid"), space,
                                         {"loss": "binary_crossentropy", "optimizer": "adam", "learning_rate": 1e-3},
                                         framework=args.backend)
    evaluate = nas.cnn_evaluator(builder, (data.x_train[:n], data.y_train[:n], data.x_valid, data.y_valid),
                                 epochs=wu.pick(full=3, quick=2), seed=0)
    load0 = os.getloadavg()
    t = time.perf_counter()
    serial = nas.search(nas.GeneralController(space, seed=0, batch_size=args.batch), evaluate, n_trials=args.trials,
                        progress=False, cache=False)
    t_serial = time.perf_counter() - t
    with nas.process_pool(args.workers, threads=args.threads) as pool:
        pool.submit(int, 0).result()  # start the workers outside the timing
        t = time.perf_counter()
        parallel = nas.search(nas.GeneralController(space, seed=0, batch_size=args.batch), evaluate, n_trials=args.trials,
                              progress=False, cache=False, executor=pool)
        t_par = time.perf_counter() - t
    load1 = os.getloadavg()
    same_arcs = [r["arc"] for r in serial.records] == [r["arc"] for r in parallel.records]
    diff = float(np.abs(serial.rewards - parallel.rewards).max())
    mode = "quick" if os.environ.get("WORKSHOP_QUICK") == "1" else "full"
    print(f"{args.trials} children ({args.backend}, {n} training sequences, {mode} mode), {os.cpu_count()} cores; "
          f"load average before {load0[0]:.2f}, after {load1[0]:.2f}")
    print(f"  serial            {t_serial:7.1f} s")
    print(f"  {args.workers}-process pool    {t_par:7.1f} s")
    print(f"parallel vs serial: {t_serial / t_par:.2f}x  (target >= 1.4x)")
    print(f"same arcs in the same order: {same_arcs}; largest reward difference {diff:.1e} (a worker has "
          f"cores/{args.workers} threads, the serial run all cores: float rounding); best arc {serial.best_arc} "
          f"reward {serial.best_reward:.4f}")


if __name__ == "__main__":
    main()
