"""Shared fixtures: tiny data and tiny models in both frameworks (tangermeme style)."""
from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("WORKSHOP_QUICK", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

from _homework_kit import data_env, graded_class, graded_copy, kit  # noqa: E402,F401 - session fixtures of the tests of grading/


@pytest.fixture(autouse=True)
def _isolated_data_dir(tmp_path, monkeypatch):
    """Each test gets its own data folder, so caches never leak between tests."""
    monkeypatch.setenv("WORKSHOP_DATA", str(tmp_path / "data"))
    monkeypatch.delenv("WORKSHOP_CTCF_SOURCE", raising=False)  # the tests expect the simulated data


@pytest.fixture
def onehot():
    """Eight random one-hot sequences of 30 nt, shape (8, 30, 4)."""
    from workshop_utils.sequences import random_sequences

    return random_sequences(8, 30, seed=1)


@pytest.fixture
def torch_cnn():
    """A tiny (smooth, tanh) PyTorch CNN taking (N, L, 4) and returning logits (N, 1)."""
    import torch

    torch.manual_seed(0)

    class Tiny(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv1d(4, 3, 5, padding=2)
            self.fc = torch.nn.Linear(3, 1)

        def forward(self, x):
            h = torch.tanh(self.conv(x.transpose(1, 2))).mean(-1)
            return self.fc(h)

    return Tiny()


@pytest.fixture
def keras_cnn():
    """A tiny (smooth, tanh) Keras CNN ending in Dense(1) + Activation('sigmoid')."""
    import keras

    keras.utils.set_random_seed(0)
    return keras.Sequential([
        keras.Input((30, 4)),
        keras.layers.Conv1D(3, 5, padding="same", activation="tanh"),
        keras.layers.GlobalAveragePooling1D(),
        keras.layers.Dense(1),
        keras.layers.Activation("sigmoid"),
    ])
