"""workshop_utils: the companion package of the AutoML-for-genomics workbook.

``import workshop_utils`` is light: it imports neither TensorFlow nor PyTorch.
Modules that need a framework import it inside their functions.

Modules (one concept each)
--------------------------
config       quick/full mode, paths, set_seed(), setup(), Colab detection
sequences    one-hot encode/decode, reverse complement, batches
motifs       JASPAR matrices (CTCF MA0139.1), PWM scanning, sampling, motif comparison
datasets     CTCF simulator and h5 files, toy genes, PBMC expression
backend      the only place that knows Keras vs PyTorch: logits(), input_gradient()
attribution  saliency, gradient x input, in-silico mutagenesis
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
