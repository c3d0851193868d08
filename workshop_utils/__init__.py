"""workshop_utils: the companion package of the AutoML-for-genomics workbook.

One import line gives everything: ``import workshop_utils as wu`` imports every
submodule (``wu.training.fit``, ``wu.attribution.ism``, ``wu.nas.search`` ...) and
stays light: the submodules import only numpy and the standard library at top level,
and TensorFlow/Keras, PyTorch, scikit-learn, pandas, matplotlib ... are imported inside
the functions that need them.  ``wu.setup()`` imports and seeds the frameworks.

Modules (one concept each)
--------------------------
config          quick/full mode, paths, set_seed(), setup(), the notebooks' setup cell, Colab detection
sequences       one-hot encode/decode, reverse complement, batches
motifs          JASPAR matrices (CTCF MA0139.1), PWM scanning, sampling, motif comparison
datasets        load_ctcf(): your file, the course's real data or the simulated set (cached)
ctcf_data       CTCFData (the three splits as arrays) and the CTCF_200.h5 file layout
simulator       the CTCF binding simulator and its presets
peaks           real ChIP-seq peak sequences shipped in data/
expression_data PBMC single-cell expression and AnnData .h5ad files
toy_data        the autoencoder lesson's toy genes
backend         the only place that knows Keras vs PyTorch: logits(), input_gradient(), ...
models          the Day-1 CTCF CNN in Keras and PyTorch (same architecture, same parameters)
training        PyTorch Dataset/DataLoader, fit() with early stopping, evaluate(); Keras callbacks
metrics         thin wrappers over scikit-learn: AUROC, AUPR, confusion, do two models err alike
attribution     saliency, gradient x input, in-silico mutagenesis, integrated gradients
discovery       motifs from attributions: TF-MoDISco patterns named by TOMTOM against a JASPAR subset
marginalize     plant motifs into background sequences and read the model's response (grammar)
plotting        logos, ROC/PR, training curves, confusion, ISM heatmaps, NAS and embedding plots
nas             model spaces, one builder for Keras and PyTorch, controllers, search; dense spaces, ENAS
autoencoders    AE, denoising AE, VAE, residual VAE builders (Keras 3); layers in _keras_autoencoders
autoencoder_eval  using a trained autoencoder: encode, decode, losses, the KL weight
expression      Tybalt-style preprocessing, kNN cell-type accuracy in a representation
tuning          KerasTuner hypermodels and the trials table
explain         SHAP values for expression classifiers
grading         homework self-checks and the instructor grader

The light helpers below are also re-exported at the top level (``wu.load_ctcf()``).
"""
from . import (attribution, autoencoder_eval, autoencoders, backend, config, ctcf_data, datasets, discovery, explain,
               expression, expression_data, grading, marginalize, metrics, models, motifs, nas, peaks, plotting,
               sequences, simulator, toy_data, training, tuning)
from .config import cache_dir, data_dir, in_colab, is_quick, pick, set_seed, setup
from .datasets import CTCFData, load_ctcf, simulate_ctcf
from .expression_data import load_pbmc
from .motifs import ctcf_pfm, jaspar_counts, pwm_log_odds, scan
from .sequences import one_hot_decode, one_hot_encode, reverse_complement
from .toy_data import toy_genes

__version__ = "0.1.0"

__all__ = [
    "CTCFData", "attribution", "autoencoder_eval", "autoencoders", "backend", "cache_dir", "config", "ctcf_data",
    "ctcf_pfm", "data_dir", "datasets", "discovery", "explain", "expression", "expression_data", "grading",
    "in_colab", "is_quick", "jaspar_counts", "load_ctcf", "load_pbmc", "marginalize", "metrics", "models", "motifs",
    "nas", "one_hot_decode", "one_hot_encode", "peaks", "pick", "plotting", "pwm_log_odds", "reverse_complement",
    "scan", "sequences", "set_seed", "setup", "simulate_ctcf", "simulator", "toy_data", "toy_genes", "training",
    "tuning",
]
