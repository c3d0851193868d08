import random

import numpy as np
import pytest

from workshop_utils import config


def test_quick_mode_switch(monkeypatch):
    monkeypatch.setenv("WORKSHOP_QUICK", "1")
    assert config.is_quick() and config.pick(full=10, quick=2) == 2
    monkeypatch.setenv("WORKSHOP_QUICK", "0")
    assert not config.is_quick() and config.pick(full=10, quick=2) == 10
    monkeypatch.delenv("WORKSHOP_QUICK")
    assert not config.is_quick()  # full mode is the default


def test_set_seed_python_numpy_torch_keras():
    import keras
    import torch

    def draw():
        return (random.random(), np.random.rand(), torch.rand(1).item(),
                float(keras.random.uniform((1,))[0]))

    config.set_seed(7)
    a = draw()
    config.set_seed(7)
    assert draw() == a
    config.set_seed(8)
    assert draw() != a


@pytest.mark.parametrize("bad", [-1, 1.5, "3", True])
def test_set_seed_rejects_bad_seed(bad):
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        config.set_seed(bad)


def test_setup_reports_mode_and_paths(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("WORKSHOP_DATA", str(tmp_path / "d"))
    info = config.setup(seed=3)
    assert info["seed"] == 3 and info["colab"] is False and info["data_dir"] == str(tmp_path / "d")
    assert "mode=" in capsys.readouterr().out
    monkeypatch.setenv("WORKSHOP_QUICK", "0")
    assert config.cache_dir() == tmp_path / "d" / "cache" and config.cache_dir().is_dir()
    monkeypatch.setenv("WORKSHOP_QUICK", "1")  # quick runs never overwrite full-mode results
    assert config.cache_dir() == tmp_path / "d" / "cache" / "quick"


def test_colab_detection(monkeypatch):
    assert config.in_colab() is False
    monkeypatch.setenv("COLAB_RELEASE_TAG", "release-x")
    assert config.in_colab() is True
