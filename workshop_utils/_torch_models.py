"""PyTorch classes of :mod:`workshop_utils.models` (this module imports torch).

Imported lazily by :func:`workshop_utils.models.torch_ctcf_cnn` and by
``workshop_utils.models.TorchCTCFCNN``; import it directly to subclass or pickle
(``from workshop_utils._torch_models import TorchCTCFCNN``).
"""
from __future__ import annotations

import torch
from torch import nn

from . import _checks


class TorchCTCFCNN(nn.Module):
    """The Day-1 CNN in PyTorch: takes one-hot DNA ``(N, L, 4)``, returns logits ``(N, 1)``.

    Same layers and parameter count as :func:`workshop_utils.models.keras_ctcf_cnn`; train
    it with ``BCEWithLogitsLoss`` (e.g. :func:`workshop_utils.training.fit`).

    Parameters
    ----------
    seq_len, filters, kernel_size, pool_size, dense_units, conv_dropout, dense_dropout
        As in :func:`workshop_utils.models.keras_ctcf_cnn`.
    seed : int
        Seeds the weight initialisation (Glorot-uniform weights, zero biases, like Keras)
        without changing torch's global random state.
    """

    def __init__(self, seq_len: int = 200, filters: int = 24, kernel_size: int = 19,
                 pool_size: int = 25, dense_units: int = 64, conv_dropout: float = 0.0,
                 dense_dropout: float = 0.0, seed: int = 0):
        a = _checks.cnn_arch("TorchCTCFCNN", seq_len, filters, kernel_size, pool_size, dense_units, conv_dropout,
                        dense_dropout, seed)
        super().__init__()
        self.seq_len = a["seq_len"]
        with torch.random.fork_rng(devices=[]):  # torch's default init draws from the global RNG
            self.conv = nn.Conv1d(4, a["filters"], a["kernel_size"], padding="same")
            self.pool = nn.MaxPool1d(a["pool_size"])
            self.conv_dropout = nn.Dropout(a["conv_dropout"])
            self.dense = nn.Linear(a["filters"] * (a["seq_len"] // a["pool_size"]), a["dense_units"])
            self.dense_dropout = nn.Dropout(a["dense_dropout"])
            self.logit = nn.Linear(a["dense_units"], 1)
        gen = torch.Generator().manual_seed(a["seed"])
        for layer in (self.conv, self.dense, self.logit):
            nn.init.xavier_uniform_(layer.weight, generator=gen)
            nn.init.zeros_(layer.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 3 or x.shape[-1] != 4 or x.shape[1] != self.seq_len:
            raise ValueError(f"TorchCTCFCNN: x must have shape (N, {self.seq_len}, 4), got {tuple(x.shape)}")
        h = torch.relu(self.conv(x.transpose(1, 2)))      # (N, filters, L)
        h = self.conv_dropout(self.pool(h))                # (N, filters, L // pool)
        h = h.transpose(1, 2).flatten(1)                   # position-major, like keras Flatten
        h = self.dense_dropout(torch.relu(self.dense(h)))
        return self.logit(h)                               # (N, 1) logits
