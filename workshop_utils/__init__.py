"""workshop_utils: the companion package of the AutoML-for-genomics workbook.

``import workshop_utils`` is light: it imports neither TensorFlow nor PyTorch.
Modules that need a framework import it inside their functions.

Modules (one concept each)
--------------------------
config       quick/full mode, paths, set_seed(), setup(), Colab detection
sequences    one-hot encode/decode, reverse complement, batches
motifs       JASPAR matrices (CTCF MA0139.1), PWM scanning, sampling, motif comparison
datasets     CTCF simulator and h5 files, toy genes, PBMC expression
backend      the only place that knows Keras vs PyTorch: logits(), input_gradient(), mutant_scorer()
models       the Day-1 CTCF CNN in Keras and PyTorch (same architecture, same parameters)
training     PyTorch Dataset/DataLoader, fit() with early stopping, evaluate(); Keras callbacks
metrics      thin wrappers over scikit-learn: AUROC, AUPR, confusion, do two models err alike
attribution  saliency, gradient x input, in-silico mutagenesis, integrated gradients
plotting     logos, ROC/PR, training curves, confusion, ISM heatmaps, NAS and embedding plots
nas          model spaces, one builder for Keras and PyTorch, controllers, search; dense spaces, ENAS
autoencoders AE, denoising AE, VAE, residual VAE (Keras 3)
expression   Tybalt-style preprocessing, kNN cell-type accuracy in a representation
tuning       KerasTuner hypermodels and the trials table
explain      SHAP values for expression classifiers
grading      homework self-checks and the instructor grader

Import submodules explicitly (``from workshop_utils import training``); the light
helpers below are re-exported at the top level.
"""
from .config import cache_dir, data_dir, in_colab, is_quick, pick, set_seed, setup
from .datasets import CTCFData, load_ctcf, load_pbmc, simulate_ctcf, toy_genes
from .motifs import ctcf_pfm, jaspar_counts, pwm_log_odds, scan
from .sequences import one_hot_decode, one_hot_encode, reverse_complement

__version__ = "0.1.0"

__all__ = [
    "CTCFData", "cache_dir", "ctcf_pfm", "data_dir", "in_colab", "is_quick", "jaspar_counts",
    "load_ctcf", "load_pbmc", "one_hot_decode", "one_hot_encode", "pick", "pwm_log_odds",
    "reverse_complement", "scan", "set_seed", "setup", "simulate_ctcf", "toy_genes",
]
