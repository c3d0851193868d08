"""Bad input, as a student would give it, to the data, sequence, motif, expression, metrics,
plotting, autoencoder and tuning modules: each case must raise the right exception type with a
message that starts with the public function's name and names the argument ("fn: arg must be ...").

Each case is ``(fn, exception type, argument name, call)``, where ``call(tmp_path)`` makes the
bad call.  Cases that need Keras build tiny models; none trains anything.
"""
from __future__ import annotations

import re

import h5py
import numpy as np
import pytest

from workshop_utils import (autoencoders, config, datasets, expression, expression_data, metrics, motifs,
                            plotting, sequences, toy_data, tuning)

RNG = np.random.default_rng(0)
X1H = sequences.random_sequences(4, 30, seed=0)                    # (4, 30, 4) one-hot
PPM = motifs.ctcf_pfm()                                           # (19, 4) probabilities
COUNTS = motifs.jaspar_counts("CTCF")                             # (19, 4) counts
ATTR = RNG.normal(size=(60, 4))                                   # an attribution map
Y = np.array([0, 1, 0, 1, 1, 0], dtype=np.float32)
S = np.array([0.1, 0.8, 0.3, 0.6, 0.9, 0.2])
Z = RNG.normal(size=(30, 3)).astype(np.float32)
LABELS = np.array(["B", "T", "NK"] * 10)
SMALL = {"train": 20, "valid": 10, "test": 10}


def _nan(a, where=(0, 0)):
    a = np.array(a, dtype=float)
    a[where] = np.nan
    return a


def _write(path, text):
    path.write_text(text)
    return path


def _not_hdf5(tmp_path):
    p = tmp_path / "notes.h5"
    p.write_text("this is not an HDF5 file")
    return p


def _h5ad(tmp_path):
    p = tmp_path / "cells.h5ad"
    with h5py.File(p, "w") as f:
        f["X"] = np.ones((3, 2), dtype=np.float32)
        obs = f.create_group("obs")
        obs.attrs["_index"] = "_index"
        obs["_index"] = np.array([b"c1", b"c2", b"c3"])
        col = obs.create_group("cell_type")
        col["codes"] = np.array([0, 1, 0], dtype=np.int8)
        col["categories"] = np.array([b"B", b"T"])
        var = f.create_group("var")
        var.attrs["_index"] = "_index"
        var["_index"] = np.array([b"G1", b"G2"])
    return p


def _trials_table():
    import pandas as pd

    return pd.DataFrame({"trial_id": ["0", "1"], "depth": [1, 2], "score": [0.1, 0.2]})


def _tuner(tmp_path, objective="val_loss"):
    return tuning.make_tuner("random", tuning.latent_size_hypermodel(3, latent=(1, 2), depth=1, width=4),
                             tmp_path / "runs", "p", max_trials=1, objective=objective)


X3 = RNG.random((20, 3)).astype(np.float32)

CASES = [
    # --- config
    ("is_quick", ValueError, "WORKSHOP_QUICK", "maybe"),  # special-cased below (environment variable)
    ("set_seed", ValueError, "seed", lambda t: config.set_seed(-1)),
    ("set_seed", TypeError, "seed", lambda t: config.set_seed(1.5)),
    ("setup", TypeError, "quiet", lambda t: config.setup(quiet="no")),
    ("setup", ValueError, "frameworks", lambda t: config.setup(frameworks=("jax",))),
    ("data_dir", ValueError, "WORKSHOP_DATA", "a file"),  # special-cased below (environment variable)
    # --- sequences
    ("one_hot_encode", TypeError, "seqs", lambda t: sequences.one_hot_encode(42)),
    ("one_hot_encode", TypeError, "seqs", lambda t: sequences.one_hot_encode(["ACGT", 5])),
    ("one_hot_encode", ValueError, "seqs", lambda t: sequences.one_hot_encode("ACGU")),
    ("one_hot_encode", ValueError, "seqs", lambda t: sequences.one_hot_encode(["ACGT", "ACG"])),
    ("one_hot_encode", ValueError, "seqs", lambda t: sequences.one_hot_encode([])),
    ("one_hot_encode", ValueError, "n_value", lambda t: sequences.one_hot_encode("ACGT", n_value=0.5)),
    ("one_hot_decode", ValueError, "X", lambda t: sequences.one_hot_decode(np.zeros((2, 10, 5)))),
    ("reverse_complement", ValueError, "X", lambda t: sequences.reverse_complement(np.zeros((10, 4)))),
    ("batches", ValueError, "batch_size", lambda t: sequences.batches(10, 0)),
    ("batches", TypeError, "n", lambda t: sequences.batches(np.float64(10), 2)),
    ("random_sequences", ValueError, "n", lambda t: sequences.random_sequences(0, 10)),
    ("random_sequences", ValueError, "probs", lambda t: sequences.random_sequences(3, 10, probs=(0.5,) * 4)),
    ("validate_one_hot", ValueError, "X", lambda t: sequences.validate_one_hot(X1H.transpose(0, 2, 1))),
    ("validate_one_hot", ValueError, "X", lambda t: sequences.validate_one_hot(_nan(X1H, (0, 3, 1)))),
    # --- motifs
    ("jaspar_counts", ValueError, "name", lambda t: motifs.jaspar_counts("NOPE")),
    ("counts_to_ppm", ValueError, "counts", lambda t: motifs.counts_to_ppm(COUNTS.T)),
    ("counts_to_ppm", ValueError, "counts", lambda t: motifs.counts_to_ppm(-np.ones((3, 4)))),
    ("counts_to_ppm", ValueError, "pseudocount", lambda t: motifs.counts_to_ppm(COUNTS, pseudocount=-1)),
    ("pwm_log_odds", ValueError, "ppm", lambda t: motifs.pwm_log_odds(COUNTS)),
    ("pwm_log_odds", ValueError, "background", lambda t: motifs.pwm_log_odds(PPM, background=[0.5, 0.5, 0, 0])),
    ("scan", ValueError, "X", lambda t: motifs.scan(X1H.transpose(0, 2, 1), motifs.pwm_log_odds(PPM))),
    ("scan", ValueError, "pwm", lambda t: motifs.scan(X1H[:, :10], motifs.pwm_log_odds(PPM))),
    ("sample_instances", ValueError, "n", lambda t: motifs.sample_instances(PPM, -1)),
    ("sample_instances", TypeError, "rng", lambda t: motifs.sample_instances(PPM, 5, rng="a")),
    ("compare_to_motif", ValueError, "motif", lambda t: motifs.compare_to_motif(ATTR, motifs.pwm_log_odds(PPM))),
    ("compare_to_motif", ValueError, "motif", lambda t: motifs.compare_to_motif(ATTR, COUNTS)),
    ("compare_to_motif", ValueError, "attr", lambda t: motifs.compare_to_motif(_nan(ATTR, (5, 2)))),
    ("compare_to_motif", ValueError, "center", lambda t: motifs.compare_to_motif(ATTR, center=500)),
    ("information_content", ValueError, "ppm", lambda t: motifs.information_content(np.ones((3, 4)))),
    ("match_motifs", TypeError, "queries", lambda t: motifs.match_motifs(PPM, [PPM])),
    ("match_motifs", ValueError, "targets[0]", lambda t: motifs.match_motifs([PPM], [COUNTS])),
    ("read_meme", ValueError, "path", lambda t: motifs.read_meme(_write(t / "peaks.fa", ">s1\nACGT\n"))),
    ("read_meme", FileNotFoundError, "path", lambda t: motifs.read_meme(t / "JASPAR.meme")),
    ("read_meme", TypeError, "path", lambda t: motifs.read_meme(motifs.load_jaspar_subset())),
    # --- datasets (CTCF simulator and h5 files)
    ("simulate_ctcf", TypeError, "n", lambda t: datasets.simulate_ctcf(np.float64(10))),
    ("simulate_ctcf", ValueError, "length", lambda t: datasets.simulate_ctcf(10, length=20)),
    ("simulate_ctcf", ValueError, "preset", lambda t: datasets.simulate_ctcf(10, preset="easy")),
    ("simulate_ctcf", ValueError, "p_bound", lambda t: datasets.simulate_ctcf(10, p_bound=1.0)),
    ("simulate_ctcf", ValueError, "seed", lambda t: datasets.simulate_ctcf(10, seed=-1)),
    ("sample_background", ValueError, "n", lambda t: datasets.sample_background(-1, 10)),
    ("make_ctcf_data", ValueError, "sizes", lambda t: datasets.make_ctcf_data(sizes={"train": 10})),
    ("make_ctcf_data", ValueError, "sizes['valid']",
     lambda t: datasets.make_ctcf_data(sizes={"train": 10, "valid": 0, "test": 5})),
    ("load_ctcf", IsADirectoryError, "path", lambda t: datasets.load_ctcf(path=t)),
    ("load_ctcf", FileNotFoundError, "path", lambda t: datasets.load_ctcf(path=t / "CTCF_200.h5")),
    ("load_ctcf", TypeError, "cache", lambda t: datasets.load_ctcf(sizes=SMALL, cache="yes")),
    ("load_ctcf", ValueError, "preset", lambda t: datasets.load_ctcf(preset="Default")),
    ("read_ctcf_h5", ValueError, "path", lambda t: datasets.read_ctcf_h5(_not_hdf5(t))),
    ("write_ctcf_h5", TypeError, "data", lambda t: datasets.write_ctcf_h5({"x_train": X1H}, t / "o.h5")),
    ("write_ctcf_h5", IsADirectoryError, "path",
     lambda t: datasets.write_ctcf_h5(datasets.make_ctcf_data(SMALL), t)),
    ("CTCFData.split", ValueError, "name", lambda t: datasets.make_ctcf_data(SMALL).split("training")),
    ("simulated_cache_path", ValueError, "preset", lambda t: datasets.simulated_cache_path("x")),
    ("site_detector_auroc", TypeError, "data", lambda t: datasets.site_detector_auroc("data")),
    ("site_detector_auroc", ValueError, "split",
     lambda t: datasets.site_detector_auroc(datasets.make_ctcf_data(SMALL), "training")),
    # --- expression data and toy data
    ("read_h5ad", IsADirectoryError, "path", lambda t: expression_data.read_h5ad(t)),
    ("read_h5ad", TypeError, "label_key", lambda t: expression_data.read_h5ad(_h5ad(t), label_key=3)),
    ("read_h5ad", ValueError, "label_key", lambda t: expression_data.read_h5ad(_h5ad(t), label_key="nope")),
    ("read_h5ad", TypeError, "use_raw", lambda t: expression_data.read_h5ad(_h5ad(t), use_raw="yes")),
    ("load_pbmc", TypeError, "use_raw", lambda t: expression_data.load_pbmc(use_raw=1)),
    ("toy_genes", ValueError, "n_samples", lambda t: toy_data.toy_genes(0)),
    ("toy_genes", TypeError, "n_genes", lambda t: toy_data.toy_genes(10, n_genes=2.0)),
    ("toy_genes", TypeError, "products", lambda t: toy_data.toy_genes(10, products="no")),
    # --- expression
    ("variable_genes", ValueError, "n_genes", lambda t: expression.variable_genes(Z, 1000)),
    ("variable_genes", ValueError, "method", lambda t: expression.variable_genes(Z, 2, method="cv")),
    ("scale_01", ValueError, "X", lambda t: expression.scale_01(_nan(Z))),
    ("preprocess", ValueError, "X", lambda t: expression.preprocess(Z[0])),
    ("knn_accuracy", ValueError, "labels", lambda t: expression.knn_accuracy(Z, np.array(["B"] * 30))),
    ("knn_accuracy", ValueError, "folds", lambda t: expression.knn_accuracy(Z, LABELS, folds=1)),
    ("knn_accuracy", ValueError, "k", lambda t: expression.knn_accuracy(Z, LABELS, k=0)),
    ("knn_accuracy", ValueError, "labels",
     lambda t: expression.knn_accuracy(Z, np.array(["B", None, "T"] * 10, dtype=object))),
    ("separating_dimensions", ValueError, "cell_type", lambda t: expression.separating_dimensions(Z, LABELS, "zz")),
    # --- metrics
    ("binary_metrics", ValueError, "y_true", lambda t: metrics.binary_metrics(2 * Y - 1, S)),
    ("binary_metrics", ValueError, "y_score", lambda t: metrics.binary_metrics(Y, _nan(S, 2))),
    ("binary_metrics", TypeError, "threshold", lambda t: metrics.binary_metrics(Y, S, threshold="0.5")),
    ("binary_metrics", ValueError, "y_score", lambda t: metrics.binary_metrics(Y, np.stack([S, S], 1))),
    ("mistake_overlap", ValueError, "score_b", lambda t: metrics.mistake_overlap(Y, S, S[:-1])),
    ("top_confident", ValueError, "k", lambda t: metrics.top_confident(S, k=0)),
    ("top_confident", ValueError, "y_true", lambda t: metrics.top_confident(S, y_true=S)),
    # --- plotting (validation happens before anything is drawn)
    ("plot_logo", ValueError, "matrix", lambda t: plotting.plot_logo(np.zeros((4, 10)))),
    ("plot_motif_logo", ValueError, "ppm", lambda t: plotting.plot_motif_logo(COUNTS)),
    ("plot_roc_pr", TypeError, "scores", lambda t: plotting.plot_roc_pr(Y, S)),
    ("plot_roc_pr", ValueError, "y_true", lambda t: plotting.plot_roc_pr(np.zeros(6), {"m": S})),
    ("plot_history", ValueError, "metrics", lambda t: plotting.plot_history({"loss": [1.0]}, metrics=("acc",))),
    ("plot_confusion", ValueError, "confusion", lambda t: plotting.plot_confusion(np.zeros((3, 3)))),
    ("plot_embedding", ValueError, "Z", lambda t: plotting.plot_embedding(Z)),
    ("plot_trials", ValueError, "x", lambda t: plotting.plot_trials(_trials_table(), x="width")),
    ("plot_ism_heatmap", ValueError, "scores", lambda t: plotting.plot_ism_heatmap(_nan(ATTR))),
    ("plot_window_vs_motif", ValueError, "half_width", lambda t: plotting.plot_window_vs_motif(ATTR, half_width=-1)),
    # --- autoencoders
    ("deep_autoencoder", TypeError, "n_features", lambda t: autoencoders.deep_autoencoder(np.float32(6))),
    ("deep_autoencoder", ValueError, "activation", lambda t: autoencoders.deep_autoencoder(6, activation="nope")),
    ("vae", ValueError, "hidden[1]", lambda t: autoencoders.vae(6, hidden=(4, 0))),
    ("vae", ValueError, "beta", lambda t: autoencoders.vae(6, beta=float("nan"))),
    ("shallow_autoencoder", ValueError, "learning_rate", lambda t: autoencoders.shallow_autoencoder(4, learning_rate=0)),
    ("shallow_autoencoder", ValueError, "loss", lambda t: autoencoders.shallow_autoencoder(4, loss="mae")),
    ("denoising_autoencoder", ValueError, "noise", lambda t: autoencoders.denoising_autoencoder(4, noise=1.0)),
    ("encode", ValueError, "X",
     lambda t: autoencoders.encode(autoencoders.shallow_autoencoder(3, 1), _nan(X3))),
    ("kl_warmup", ValueError, "beta_max", lambda t: autoencoders.kl_warmup(2, beta_max=-1)),
    ("kl_warmup", ValueError, "kappa", lambda t: autoencoders.kl_warmup(kappa=-0.1)),
    ("set_beta", TypeError, "model", lambda t: autoencoders.set_beta("model", 1.0)),
    # --- tuning
    ("make_tuner", ValueError, "kind",
     lambda t: tuning.make_tuner("bayes", tuning.latent_size_hypermodel(3), t, "p")),
    ("make_tuner", ValueError, "max_trials",
     lambda t: tuning.make_tuner("random", tuning.latent_size_hypermodel(3), t, "p", max_trials=0)),
    ("make_tuner", ValueError, "directory",
     lambda t: tuning.make_tuner("random", tuning.latent_size_hypermodel(3), _not_hdf5(t), "p")),
    ("autoencoder_hypermodel", ValueError, "depth", lambda t: tuning.autoencoder_hypermodel(3, depth=(3, 1))),
    ("autoencoder_hypermodel", TypeError, "widths[1]", lambda t: tuning.autoencoder_hypermodel(3, widths=[4, 2.5])),
    ("run_search", ValueError, "X", lambda t: tuning.run_search(_tuner(t), _nan(X3), X3, epochs=1)),
    ("make_tuner", ValueError, "objective", lambda t: _tuner(t, objective="val_los")),
    ("run_search", ValueError, "objective",
     lambda t: tuning.run_search(_tuner(t, objective="val_auc"), X3, X3, epochs=1)),
    ("tybalt_hypermodel", ValueError, "kappas[0]", lambda t: tuning.tybalt_hypermodel(5, kappas=[0.0])),
    ("tybalt_hypermodel", TypeError, "epochs[1]", lambda t: tuning.tybalt_hypermodel(5, epochs=[10, 2.5])),
    ("trials_table", TypeError, "tuner", lambda t: tuning.trials_table("tuner")),
]


@pytest.mark.parametrize("fn, kind, name, call", CASES,
                         ids=[f"{c[0]}-{c[2]}-{i}" for i, c in enumerate(CASES)])
def test_bad_input_is_refused_with_a_clear_message(fn, kind, name, call, tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    if fn == "is_quick":
        monkeypatch.setenv("WORKSHOP_QUICK", call)

        def call(t):
            return config.pick(full=1, quick=2)
    elif fn == "data_dir":
        (tmp_path / "data.txt").write_text("not a folder")
        monkeypatch.setenv("WORKSHOP_DATA", str(tmp_path / "data.txt"))

        def call(t):
            return datasets.load_ctcf(sizes=SMALL)

    with pytest.raises(kind) as err:
        call(tmp_path)
    message = str(err.value)
    assert message.startswith(f"{fn}: "), message
    assert re.search(rf"(^|\W){re.escape(name)} must\b", message), message


def test_a_failed_write_leaves_the_previous_file_and_no_temporary_file(tmp_path, monkeypatch):
    """The h5 writer and the simulator cache go through _atomic: an error mid-write loses nothing."""
    good = datasets.write_ctcf_h5(datasets.make_ctcf_data(SMALL, seed=1), tmp_path / "d.h5")
    before = good.read_bytes()

    def full_disk(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(h5py.File, "create_dataset", full_disk)
    with pytest.raises(OSError):
        datasets.write_ctcf_h5(datasets.make_ctcf_data(SMALL, seed=2), good)
    assert good.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["d.h5"]


def test_at_least_45_cases():
    assert len(CASES) >= 45
