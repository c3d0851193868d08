"""workshop_utils.models: the Day-1 CNN is the same network in Keras and PyTorch."""
from __future__ import annotations

import numpy as np
import pytest

from workshop_utils import backend, models
from workshop_utils.sequences import random_sequences

# conv 19*4*24 + 24, dense (8*24)*64 + 64, logit 64 + 1
EXPECTED_PARAMS = 19 * 4 * 24 + 24 + 8 * 24 * 64 + 64 + 64 + 1


def test_same_parameter_count_default_and_custom():
    assert backend.count_params(models.keras_ctcf_cnn()) == EXPECTED_PARAMS
    assert backend.count_params(models.TorchCTCFCNN()) == EXPECTED_PARAMS
    kw = dict(seq_len=60, filters=5, kernel_size=6, pool_size=7, dense_units=9)
    assert backend.count_params(models.keras_ctcf_cnn(**kw)) == backend.count_params(models.TorchCTCFCNN(**kw))


def test_same_function_after_copying_weights():
    kw = dict(seq_len=60, filters=5, kernel_size=6, pool_size=7, dense_units=9, conv_dropout=0.2, dense_dropout=0.5)
    k, t = models.keras_ctcf_cnn(**kw, seed=1), models.TorchCTCFCNN(**kw, seed=2)
    X = random_sequences(6, 60, seed=0)
    assert np.abs(backend.logits(k, X) - backend.logits(t, X)).max() > 1e-3
    models.copy_keras_weights(k, t)
    np.testing.assert_allclose(backend.logits(k, X), backend.logits(t, X), atol=1e-5)
    np.testing.assert_allclose(backend.input_gradient(k, X), backend.input_gradient(t, X), atol=1e-5)


def test_keras_model_reaches_logits_and_probabilities():
    k = models.keras_ctcf_cnn(seq_len=50, pool_size=5)
    X = random_sequences(4, 50, seed=3)
    z = backend.logits(k, X)
    np.testing.assert_allclose(1 / (1 + np.exp(-z)), np.asarray(k(X)).ravel(), atol=1e-6)
    names = [layer.name for layer in k.layers]
    assert names == ["conv", "pool", "flatten", "dense", "logit", "sigmoid"]
    assert "conv_dropout" in [layer.name for layer in models.keras_ctcf_cnn(conv_dropout=0.2).layers]


def test_torch_output_shape_seed_and_input_check():
    import torch

    a, b = models.TorchCTCFCNN(seed=0), models.TorchCTCFCNN(seed=0)
    state = torch.get_rng_state()
    c = models.TorchCTCFCNN(seed=1)
    assert torch.equal(state, torch.get_rng_state())  # no global RNG side effect
    assert torch.equal(a.conv.weight, b.conv.weight) and not torch.equal(a.conv.weight, c.conv.weight)
    x = torch.from_numpy(random_sequences(3, 200, seed=0))
    assert a(x).shape == (3, 1)
    with pytest.raises(ValueError, match="x must have shape"):
        a(x.transpose(1, 2))


def test_argument_validation():
    with pytest.raises(ValueError, match="filters"):
        models.keras_ctcf_cnn(filters=0)
    with pytest.raises(ValueError, match="conv_dropout"):
        models.TorchCTCFCNN(conv_dropout=1.5)
    with pytest.raises(ValueError, match="pool_size"):
        models.TorchCTCFCNN(seq_len=10, pool_size=20)
    with pytest.raises(TypeError, match="Keras model then a torch model"):
        models.copy_keras_weights(models.TorchCTCFCNN(), models.TorchCTCFCNN())


def test_torch_model_pickles():
    import pickle

    t = models.TorchCTCFCNN(seq_len=50, pool_size=5)
    t2 = pickle.loads(pickle.dumps(t))
    X = random_sequences(2, 50, seed=0)
    np.testing.assert_allclose(backend.logits(t, X), backend.logits(t2, X))
