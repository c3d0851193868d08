"""ENAS over dense spaces: the supernet shares weights, children are scored without training."""
from __future__ import annotations

import numpy as np
import pytest

from workshop_utils.nas.dense import build_dense, dense_model_space
from workshop_utils.nas.enas import (ENASResult, child_from_supernet, enas_search, make_supernet, score_shared,
                                     train_shared)


def blobs(n=240, n_features=12, n_classes=3, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, n_classes, n)
    X = rng.normal(size=(n, n_features)).astype(np.float32)
    X[np.arange(n), y] += 3.0
    return X, y


@pytest.fixture
def space():
    return dense_model_space(units=(8, 16), depth=(1, 2), activation=("relu", "tanh"), dropout=(0.0, 0.25))


def test_supernet_holds_every_child_and_a_child_is_a_path(space):
    import torch

    net = make_supernet(space, 12, 3, seed=0)
    x = torch.randn(4, 12)
    for arc in ([0, 0, 0, 0, 0], [1, 1, 1, 1, 1], [2, 1, 1, 0, 1]):
        keys = net.child_keys(arc)
        assert set(keys) <= set(net.keys)
        child = child_from_supernet(net, arc)
        assert net.child_parameters(arc) == sum(p.numel() for p in build_dense(space, arc, 12, 3).parameters())
        net.eval()
        assert torch.allclose(net(x, arc), child(x), atol=1e-6)
    # activation and dropout carry no weights: these two children share all their layers
    assert net.child_keys([1, 0, 1, 0, 0]) == net.child_keys([1, 0, 1, 1, 1])
    # different families never share
    assert not set(net.child_keys([0, 0, 0, 0, 0])) & set(net.child_keys([1, 0, 0, 0, 0]))


def test_train_shared_updates_only_the_trained_child(space):
    import torch

    X, y = blobs()
    net = make_supernet(space, 12, 3, seed=0)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    arc = [1, 0, 1, 0, 0]
    acc0 = score_shared(net, arc, X, y, metric="accuracy")
    loss = train_shared(net, X, y, arc, steps=60, lr=0.01, rng=0)
    assert np.isfinite(loss)
    used = {k.replace("-", "_") for k in net.child_keys(arc)}
    for name, value in net.state_dict().items():
        changed = not torch.equal(value, before[name])
        assert changed == (name.split(".")[1] in used), name
    assert score_shared(net, arc, X, y, metric="accuracy") > max(acc0, 0.8)


def test_score_shared_validation(space):
    X, y = blobs(20)
    net = make_supernet(space, 12, 3)
    with pytest.raises(ValueError, match="metric"):
        score_shared(net, [0, 0, 0, 0, 0], X, y, metric="auroc")
    with pytest.raises(ValueError, match="arc"):
        score_shared(net, [0, 0], X, y)
    with pytest.raises(TypeError, match="supernet"):
        score_shared(object(), [0, 0, 0, 0, 0], X, y)
    with pytest.raises(ValueError, match="steps"):
        train_shared(net, X, y, [0, 0, 0, 0, 0], steps=0)


def test_enas_search_finds_a_good_child_cheaply(space):
    X, y = blobs(300)
    res = enas_search(space, X[:200], y[:200], X[200:], y[200:], n_trials=12, warmup_steps=40,
                      steps_per_trial=3, lr=0.01, seed=0, progress=False)
    assert isinstance(res, ENASResult)
    assert len(res.history) == 12 and space.check_arc(res.best_arc) == res.best_arc
    assert tuple(res.best_arc) in res.scores and res.best_score == max(res.scores.values())
    assert res.best_score > 0.8  # chance is ~0.33
    assert res.top(3)[0] == (res.best_arc, res.best_score)
    assert list(res.scores.values()) == sorted(res.scores.values(), reverse=True)
    assert set(res.search_rewards) == set(res.scores)
    assert set(res.seconds) == {"warmup", "search", "rescore"}


def test_enas_search_accepts_the_random_controller_and_validates(space):
    from workshop_utils.nas.controller import RandomController

    X, y = blobs(120)
    res = enas_search(space, X[:80], y[:80], X[80:], y[80:], controller=RandomController(space, seed=1),
                      n_trials=4, warmup_steps=0, steps_per_trial=2, metric="accuracy", progress=False)
    assert len(res.history) == 4
    with pytest.raises(ValueError, match="X_valid"):
        enas_search(space, X[:80], y[:80], X[80:, :5], y[80:], n_trials=2, progress=False)
    with pytest.raises(ValueError, match="n_trials"):
        enas_search(space, X[:80], y[:80], X[80:], y[80:], n_trials=0, progress=False)
    with pytest.raises(TypeError, match="controller"):
        enas_search(space, X[:80], y[:80], X[80:], y[80:], controller=object(), progress=False)


def test_layerwise_supernet_shares_paths_and_skips_between_children():
    import torch

    from workshop_utils.nas.dense import layerwise_model_space

    space = layerwise_model_space(n_layers=3, units=(4, 8), activation=("relu", "tanh"))
    net = make_supernet(space, 12, 3, seed=0)
    a = [1, 0, 0, 0, 0, 1, 1, 0]            # 8 relu | 4 relu | 8 tanh, no skips
    b = [1, 1, 0, 1, 1, 1, 0, 2]            # 8 tanh | 4 tanh +x | 8 relu +h1
    # the same widths on the main path: the same shared weights, whatever the skips and activations
    assert set(net.child_keys(a)) < set(net.child_keys(b))
    assert set(net.child_keys(b)) - set(net.child_keys(a)) == {"S0to2-x-4", "S1to3-8-8"}
    x = torch.randn(4, 12)
    net.eval()
    for arc in (a, b):
        assert torch.allclose(net(x, arc), child_from_supernet(net, arc)(x), atol=1e-6)
        assert net.child_parameters(arc) == sum(p.numel() for p in build_dense(space, arc, 12, 3).parameters())
    # training child b moves the layers a uses too (shared), but no layer neither child uses
    X, y = blobs()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    train_shared(net, X, y, b, steps=5, lr=0.01, rng=0)
    used = {k.replace("-", "_") for k in net.child_keys(b)}
    for name, value in net.state_dict().items():
        assert (not torch.equal(value, before[name])) == (name.split(".")[1] in used), name


def test_enas_search_runs_on_the_layerwise_space():
    from workshop_utils.nas.dense import layerwise_model_space

    space = layerwise_model_space(n_layers=2, units=(8, 16), activation=("relu", "linear"))
    X, y = blobs(300)
    res = enas_search(space, X[:200], y[:200], X[200:], y[200:], n_trials=8, warmup_steps=40,
                      steps_per_trial=3, lr=0.01, seed=0, progress=False)
    assert space.check_arc(res.best_arc) == res.best_arc and res.best_score > 0.8


def test_rank_agreement_separates_learners_from_the_rest():
    from workshop_utils.nas.enas import rank_agreement

    # three children that cannot learn (ranked last by both), then five learners in the reverse order
    shared = [0.05, 0.06, 0.07, 0.30, 0.31, 0.32, 0.33, 0.34]
    scratch = [0.06, 0.07, 0.08, 0.60, 0.58, 0.56, 0.54, 0.52]
    table = rank_agreement(shared, scratch, thresholds=(0.4, 0.55))
    assert list(table.index) == ["all", "from scratch > 0.4", "from scratch > 0.55"]
    assert list(table["n"]) == [8, 5, 3]
    assert table.loc["all", "spearman"] > 0           # the non-learners carry the overall rho...
    assert table.loc["from scratch > 0.4", "spearman"] == pytest.approx(-1.0)   # ...among learners it is reversed
    assert table.loc["from scratch > 0.4", "mean gap"] == pytest.approx(np.mean(np.subtract(scratch, shared)[3:]))
    # too few children for a correlation: NaN, not an error
    assert np.isnan(rank_agreement(shared, scratch, thresholds=(0.59,)).loc["from scratch > 0.59", "spearman"])


def test_regret_of_the_shared_weight_pick():
    from workshop_utils.nas.enas import regret

    shared = [0.9, 0.8, 0.1, 0.7]
    scratch = [0.5, 0.4, 0.2, 0.6]
    assert regret(shared, scratch) == pytest.approx(0.1)          # the pick (0.5) misses the best (0.6)
    assert regret(shared, scratch, top=3) == 0.0                   # retraining three finds it
    assert regret([0.5, 0.5], [0.3, 0.6]) == pytest.approx(0.3)    # ties count against the pick
    assert regret([0.1, 0.2], [0.1, 0.2]) == 0.0


def test_rank_agreement_and_regret_validate():
    from workshop_utils.nas.enas import rank_agreement, regret

    with pytest.raises(ValueError, match="scratch"):
        rank_agreement([0.1, 0.2, 0.3], [0.1, 0.2])
    with pytest.raises(ValueError, match="shared"):
        regret([0.1, np.nan], [0.1, 0.2])
    with pytest.raises(ValueError, match="top"):
        regret([0.1, 0.2], [0.1, 0.2], top=3)
    with pytest.raises(TypeError, match="thresholds"):
        rank_agreement([0.1, 0.2], [0.1, 0.2], thresholds=0.4)
