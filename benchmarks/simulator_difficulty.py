"""How hard is the simulated CTCF task?  A small CNN against a 6-mer logistic regression.

The simulator's presets are tuned so that the course's CNN reaches a test AUROC of
about 0.85 on the default preset (about 0.78 on 'hard') while a 6-mer bag-of-words
logistic regression stays near 0.75: the CNN lesson should mean something.

    python benchmarks/simulator_difficulty.py [--preset default] [--epochs 8] [--n-train 50000]
"""
from __future__ import annotations

import argparse
import time

from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from workshop_utils.datasets import make_ctcf_data

from _kmers import kmer_counts


def cnn_auroc(data, epochs: int, seed: int = 0) -> float:
    import keras

    from workshop_utils.models import keras_ctcf_cnn

    model = keras_ctcf_cnn(seq_len=data.x_train.shape[1], seed=seed)  # the Day-1 CNN
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy")
    model.fit(data.x_train, data.y_train, validation_data=(data.x_valid, data.y_valid), epochs=epochs,
              batch_size=128, verbose=0,
              callbacks=[keras.callbacks.EarlyStopping(patience=2, restore_best_weights=True)])
    return roc_auc_score(data.y_test, model.predict(data.x_test, verbose=0).ravel())


def kmer_auroc(data, k: int = 6) -> float:
    tr, te = kmer_counts(data.x_train, k), kmer_counts(data.x_test, k)
    clf = LogisticRegression(C=0.05, max_iter=2000)
    clf.fit(tr, data.y_train)
    return roc_auc_score(data.y_test, clf.decision_function(te))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="default")
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--n-train", type=int, default=50_000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    data = make_ctcf_data({"train": args.n_train, "valid": 5000, "test": 5000}, preset=args.preset, seed=args.seed)
    t = time.time()
    km = kmer_auroc(data)
    t_km = time.time() - t
    t = time.time()
    cnn = cnn_auroc(data, args.epochs, args.seed)
    t_cnn = time.time() - t
    print(f"preset={args.preset} n_train={args.n_train}")
    print(f"  6-mer logistic regression test AUROC: {km:.3f}  ({t_km:.0f} s)")
    print(f"  CNN (Conv24x19-Pool25-Dense64)  AUROC: {cnn:.3f}  ({t_cnn:.0f} s)")
    print(f"  CNN - k-mer gap: {cnn - km:+.3f}")


if __name__ == "__main__":
    main()
