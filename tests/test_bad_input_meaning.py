"""Values of the right type and shape that mean something else (issue #23).

The second held-out corpus found silent wrong results of one kind: a sigmoid-ended torch model
whose probabilities were squashed twice, logits thresholded as probabilities, a threshold of 50,
an objective minimised that should be maximised, an optimizer over another model's parameters,
budgets that cannot be met, a thread pool, impossible simulation presets, sparse files whose
indices point past the genes.  Each case below is what a student or an instructor might really
do; it must either be refused, before any work, with an exception that names the argument
(the style of ``tests/test_bad_input_models.py``), or warn naming it.  Where the package adapts
instead (a model ending in ``nn.Sigmoid()``), the tests after the tables check the right answer.
"""
from __future__ import annotations

import copy
import dataclasses
import re
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import h5py
import numpy as np
import pytest

from workshop_utils import (attribution, autoencoders, backend, datasets, explain, expression_data, metrics, models,
                            nas, sequences, training, tuning)
from workshop_utils.nas import dense
from workshop_utils.sequences import random_sequences

X = random_sequences(8, 30, seed=1)
Y = np.array([0, 1] * 4, dtype=np.float32)
P = np.linspace(0.05, 0.95, 8)                     # probabilities
Z = np.log(P / (1 - P))                             # the same scores as logits
TABLE = np.random.default_rng(0).normal(size=(12, 5)).astype(np.float32)


# --------------------------------------------------------------------------- models students write
def _linear():
    import torch

    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(120, 1))


def sigmoid_sequential():
    """The most common binary classifier a student writes: nn.Sequential(..., nn.Sigmoid())."""
    import torch

    return torch.nn.Sequential(_linear(), torch.nn.Sigmoid())


def sigmoid_module():
    """A module whose forward returns self.sigmoid(...), squeezed."""
    import torch

    class SigmoidNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.body = _linear()
            self.out = torch.nn.Sigmoid()

        def forward(self, x):
            return self.out(self.body(x)).squeeze(-1)

    return SigmoidNet()


def sigmoid_function():
    """The same, with the function torch.sigmoid: invisible to hooks, refused."""
    import torch

    class SigmoidFn(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.body = _linear()

        def forward(self, x):
            return torch.sigmoid(self.body(x))

    return SigmoidFn()


def tuple_model():
    """A model that returns (logits, features): ``'tuple' object has no attribute 'float'`` before."""
    import torch

    class WithFeatures(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.body = _linear()

        def forward(self, x):
            return self.body(x), x

    return WithFeatures()


def softmax_model(functional=False):
    """Two classes through a softmax: a sigmoid on top of it would be meaningless."""
    import torch

    class Softmaxed(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.body = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(120, 2))
            self.out = torch.nn.Softmax(dim=1)

        def forward(self, x):
            return torch.softmax(self.body(x), -1) if functional else self.out(self.body(x))

    return Softmaxed()


def keras_sigmoid_dense():
    """A Keras model whose Dense applies the sigmoid itself (no Dense + Activation split)."""
    import keras

    return keras.Sequential([keras.Input((30, 4)), keras.layers.Flatten(), keras.layers.Dense(1, activation="sigmoid")])


def cnn():
    return models.TorchCTCFCNN(seq_len=30, filters=3, kernel_size=5, pool_size=5, dense_units=4)


def foreign_optimizer():
    import torch

    return torch.optim.Adam(cnn().parameters(), lr=1e-3)


def copied_after_optimizer():
    """The optimizer was built, then the model was copied: it trains the original, not the copy."""
    import torch

    m = cnn()
    opt = torch.optim.Adam(m.parameters(), lr=1e-3)
    return copy.deepcopy(m), opt


def mixed_optimizer():
    import torch

    m = cnn()
    return m, torch.optim.SGD([*m.parameters(), *torch.nn.Linear(2, 1).parameters()], lr=0.1)


def functional_relu_net():
    import torch

    class Fn(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = torch.nn.Linear(5, 8)
            self.b = torch.nn.Linear(8, 3)

        def forward(self, x):
            return self.b(torch.relu(self.a(x)) * torch.sigmoid(self.a(x)))

    return Fn()


def tuple_dense_net():
    import torch

    class Two(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = torch.nn.Linear(5, 3)

        def forward(self, x):
            return self.a(x), x

    return Two()


# --------------------------------------------------------------------------- files and spaces
def small_space():
    return nas.ModelSpace.from_dict([[nas.Operation("identity"), nas.Operation("flatten")],
                                     [nas.Operation("identity"), nas.Operation("flatten"),
                                      nas.Operation("dropout", rate=0.1)]])


def reward(arc):
    """Module-level, so a process pool can pickle it."""
    return 0.1 * arc[0] + 0.01 * arc[1]


def _search(**kw):
    kw.setdefault("progress", False)
    return nas.search(nas.RandomController(small_space(), seed=0), kw.pop("evaluate", reward), **kw)


def _with_pool(cls, evaluate):
    with cls(1) as pool:
        return _search(evaluate=evaluate, executor=pool, n_trials=2)


def _local_evaluator():
    def ev(arc):
        return 0.5

    return ev


def sparse_h5ad(tmp_path, indices=(0, 1, 1, 0), indptr=(0, 2, 3, 4), fmt="csr_matrix"):
    """A 3-cell x 2-gene AnnData file whose X is sparse with the index arrays given."""
    p = tmp_path / "sparse.h5ad"
    with h5py.File(p, "w") as f:
        x = f.create_group("X")
        x.attrs["encoding-type"] = fmt
        x.attrs["shape"] = np.array([3, 2])
        x["data"] = np.ones(len(indices), dtype=np.float32)
        x["indices"] = np.array(indices, dtype=np.int32)
        x["indptr"] = np.array(indptr, dtype=np.int32)
        obs = f.create_group("obs")
        obs.attrs["_index"] = "_index"
        obs["_index"] = np.array([b"c1", b"c2", b"c3"])
        col = obs.create_group("bulk_labels")
        col["codes"] = np.array([0, 1, 0], dtype=np.int8)
        col["categories"] = np.array([b"B", b"T"])
        var = f.create_group("var")
        var.attrs["_index"] = "_index"
        var["_index"] = np.array([b"G1", b"G2"])
    return p


def history_csv(tmp_path, cached_cell):
    import pandas as pd

    p = _search(n_trials=2).to_csv(tmp_path / "h.csv")
    t = pd.read_csv(p)
    t["cached"] = t["cached"].astype(object)
    t.loc[0, "cached"] = cached_cell
    t.to_csv(p, index=False)
    return p


def _tuner(t, **kw):
    return tuning.make_tuner("random", tuning.latent_size_hypermodel(3, latent=(1, 2), depth=1, width=4),
                             t / "runs", "p", max_trials=1, **kw)


DEFAULT = datasets.PRESETS["default"]

# (id, call(tmp_path), exception, argument named, optional regex the message must also match)
CASES = [
    # backend: probabilities vs logits, tuple outputs (a sigmoid-ended model is adapted: tests below)
    ("predict_proba/torch.sigmoid in forward", lambda t: backend.predict_proba(sigmoid_function(), X), ValueError,
     "model", r"^predict_proba: .*torch\.sigmoid"),
    ("logits/torch.sigmoid in forward", lambda t: backend.logits(sigmoid_function(), X), ValueError, "model",
     "nn.Sigmoid"),
    ("input_gradient/torch.sigmoid in forward", lambda t: backend.input_gradient(sigmoid_function(), X), ValueError,
     "model"),
    ("saliency/torch.sigmoid in forward", lambda t: attribution.saliency(sigmoid_function(), X), ValueError, "model",
     "^saliency: "),
    ("fit/torch.sigmoid in forward", lambda t: training.fit(sigmoid_function(), (X, Y), (X, Y), progress=False),
     ValueError, "model", "^fit: "),
    ("evaluate/torch.sigmoid in forward", lambda t: training.evaluate(sigmoid_function(), X, Y), ValueError, "model"),
    ("predict_proba/tuple output", lambda t: backend.predict_proba(tuple_model(), X), TypeError, "model",
     r"tuple of 2.*return only the logits"),
    ("logits/tuple output", lambda t: backend.logits(tuple_model(), X), TypeError, "model"),
    ("input_gradient/tuple output", lambda t: backend.input_gradient(tuple_model(), X), TypeError, "model"),
    ("ism/tuple output", lambda t: attribution.ism(tuple_model(), X[:1]), TypeError, "model"),
    ("fit/tuple output", lambda t: training.fit(tuple_model(), (X, Y), (X, Y), progress=False), TypeError, "model",
     "^fit: "),
    ("predict_proba/nn.Softmax at the end", lambda t: backend.predict_proba(softmax_model(), X), ValueError, "model",
     r"nn\.Softmax\(\)"),
    ("logits/torch.softmax at the end", lambda t: backend.logits(softmax_model(functional=True), X), ValueError,
     "model", "softmax"),
    ("logits/Keras Dense with a sigmoid inside", lambda t: backend.logits(keras_sigmoid_dense(), X), ValueError,
     "model", r"Activation\('sigmoid'\)"),
    ("predict_proba/Keras Dense with a sigmoid inside", lambda t: backend.predict_proba(keras_sigmoid_dense(), X),
     ValueError, "model"),
    # metrics: logits and percentages are not probabilities
    ("binary_metrics/logits as y_score", lambda t: metrics.binary_metrics(Y, Z), ValueError, "y_score", "logits"),
    ("binary_metrics/percentages as y_score", lambda t: metrics.binary_metrics(Y, 100 * P), ValueError, "y_score",
     "percentages"),
    ("binary_metrics/threshold 50", lambda t: metrics.binary_metrics(Y, P, threshold=50), ValueError, "threshold",
     r"write 0\.5 for 50%"),
    ("binary_metrics/threshold -0.5", lambda t: metrics.binary_metrics(Y, P, threshold=-0.5), ValueError,
     "threshold"),
    ("binary_metrics/threshold 1.5", lambda t: metrics.binary_metrics(Y, P, threshold=1.5), ValueError, "threshold"),
    ("mistake_overlap/logits as score_a", lambda t: metrics.mistake_overlap(Y, Z, P), ValueError, "score_a"),
    ("mistake_overlap/logits as score_b", lambda t: metrics.mistake_overlap(Y, P, Z), ValueError, "score_b"),
    ("mistake_overlap/threshold 50", lambda t: metrics.mistake_overlap(Y, P, P, threshold=50), ValueError,
     "threshold"),
    ("evaluate/threshold 50", lambda t: training.evaluate(cnn(), X, Y, threshold=50), ValueError, "threshold",
     r"write 0\.5"),
    # training: an optimizer over another model's parameters
    ("fit/optimizer of another model", lambda t: training.fit(cnn(), (X, Y), (X, Y), optimizer=foreign_optimizer(),
                                                              progress=False), ValueError, "optimizer",
     "model.parameters"),
    ("fit/optimizer of the model before a deepcopy",
     lambda t: (lambda m, o: training.fit(m, (X, Y), (X, Y), optimizer=o, progress=False))(*copied_after_optimizer()),
     ValueError, "optimizer"),
    ("fit/optimizer with extra tensors", lambda t: (lambda m, o: training.fit(m, (X, Y), (X, Y), optimizer=o,
                                                                            progress=False))(*mixed_optimizer()),
     ValueError, "optimizer", "1 of them|2 of them"),
    # tuning: the objective's direction
    ("make_tuner/direction 'maximize'", lambda t: _tuner(t, direction="maximize"), ValueError, "direction"),
    ("make_tuner/direction 'max' for val_loss", lambda t: _tuner(t, objective="val_loss", direction="max"),
     ValueError, "direction", "keep the worst model"),
    ("make_tuner/direction 'min' for val_accuracy", lambda t: _tuner(t, objective="val_accuracy", direction="min"),
     ValueError, "direction"),
    ("make_tuner/direction 1", lambda t: _tuner(t, direction=1), ValueError, "direction"),
    ("make_tuner/an unknown metric without direction", lambda t: _tuner(t, objective="val_f1_macro"), ValueError,
     "objective", "direction='min' or direction='max'"),
    ("make_tuner/a misspelt objective", lambda t: _tuner(t, objective="val_acuracy"), ValueError, "objective",
     "did you mean 'val_accuracy'"),
    ("make_tuner/hypermodel a string", lambda t: tuning.make_tuner("random", "vae", t, "p"), TypeError,
     "hypermodel"),
    ("objective_direction/objective 3", lambda t: tuning.objective_direction(3), TypeError, "objective"),
    # nas: budgets that cannot be met, executors known to be wrong, fractions
    ("search/max_draws below n_trials", lambda t: _search(n_trials=5, budget="children", max_draws=3), ValueError,
     "max_draws"),
    ("search/more children than the space has", lambda t: _search(n_trials=7, budget="children"), ValueError,
     "n_trials", "at most the 6 arcs"),
    ("search/a ThreadPoolExecutor", lambda t: _with_pool(ThreadPoolExecutor, reward), ValueError, "executor",
     "threads share"),
    ("search/a lambda for a process pool", lambda t: _with_pool(ProcessPoolExecutor, lambda arc: 0.5), TypeError,
     "evaluate", "pickl"),
    ("search/a local function for a process pool", lambda t: _with_pool(ProcessPoolExecutor, _local_evaluator()),
     TypeError, "evaluate", "top level of a module"),
    ("random_arcs/more distinct arcs than the space", lambda t: small_space().random_arcs(7), ValueError, "n"),
    ("Operation/dropout rate 20 (a percentage)", lambda t: nas.Operation("dropout", rate=20), ValueError, "rate",
     r"write 0\.2 for 20%"),
    ("TorchCTCFCNN/conv_dropout 30", lambda t: models.TorchCTCFCNN(conv_dropout=30), ValueError, "conv_dropout",
     r"0\.3"),
    ("keras_ctcf_cnn/dense_dropout 50", lambda t: models.keras_ctcf_cnn(dense_dropout=50), ValueError,
     "dense_dropout", r"0\.5"),
    ("layerwise_model_space/dropout 10", lambda t: dense.layerwise_model_space(dropout=10), ValueError, "dropout"),
    ("denoising_autoencoder/noise 20", lambda t: autoencoders.denoising_autoencoder(4, noise=20), ValueError, "noise",
     r"0\.2"),
    ("GeneralController/baseline_decay 95", lambda t: nas.GeneralController(small_space(), baseline_decay=95),
     ValueError, "baseline_decay", r"0\.95"),
    ("simulate_ctcf/p_bound 50", lambda t: datasets.simulate_ctcf(10, p_bound=50), ValueError, "p_bound", r"0\.5"),
    ("random_sequences/probs in percent", lambda t: sequences.random_sequences(2, 10, probs=(25, 25, 25, 25)),
     ValueError, "probs", "percentages"),
    # datasets: simulation presets are checked when they are made (or edited)
    ("SimulationPreset/p_bound_without_site 19 (a percentage)",
     lambda t: datasets.SimulationPreset(p_bound_without_site=19), ValueError, "p_bound_without_site",
     r"write 0\.19 for 19%"),
    ("SimulationPreset/p_unbound_with_site -0.1", lambda t: datasets.SimulationPreset(p_unbound_with_site=-0.1),
     ValueError, "p_unbound_with_site"),
    ("SimulationPreset/flank_site_rate 1.5", lambda t: datasets.SimulationPreset(flank_site_rate=1.5), ValueError,
     "flank_site_rate"),
    ("SimulationPreset/decoy_rate -1 (numpy: lam < 0)", lambda t: datasets.SimulationPreset(decoy_rate=-1),
     ValueError, "decoy_rate", "mean count"),
    ("SimulationPreset/half_site_rate NaN", lambda t: datasets.SimulationPreset(half_site_rate=float("nan")),
     ValueError, "half_site_rate"),
    ("SimulationPreset/center_jitter -5 (numpy: scale < 0)", lambda t: datasets.SimulationPreset(center_jitter=-5),
     ValueError, "center_jitter"),
    ("SimulationPreset/min_site_score inf", lambda t: datasets.SimulationPreset(min_site_score=float("inf")),
     ValueError, "min_site_score"),
    ("SimulationPreset/flank_offset 2.5", lambda t: datasets.SimulationPreset(flank_offset=2.5), TypeError,
     "flank_offset"),
    ("SimulationPreset/flank_offset -1", lambda t: datasets.SimulationPreset(flank_offset=-1), ValueError,
     "flank_offset"),
    ("SimulationPreset/pair_spacing reversed", lambda t: datasets.SimulationPreset(pair_spacing=(27, 25)),
     ValueError, "pair_spacing"),
    ("SimulationPreset/pair_spacing one number", lambda t: datasets.SimulationPreset(pair_spacing=(25,)), TypeError,
     "pair_spacing"),
    ("SimulationPreset/other_spacing from 0", lambda t: datasets.SimulationPreset(other_spacing=(0, 10)), ValueError,
     "other_spacing[0]"),
    ("SimulationPreset/spacing_margin -1", lambda t: datasets.SimulationPreset(spacing_margin=-1), ValueError,
     "spacing_margin"),
    ("SimulationPreset/an edited preset", lambda t: dataclasses.replace(DEFAULT, decoy_rate=-2.0), ValueError,
     "decoy_rate"),
    ("simulate_ctcf/min_site_score no site can reach",
     lambda t: datasets.simulate_ctcf(10, preset=datasets.SimulationPreset(min_site_score=60)), ValueError,
     "preset.min_site_score", r"below 26\.1"),
    ("preset_key/a preset name", lambda t: datasets.preset_key("default"), TypeError, "preset"),
    # expression_data: sparse index arrays, and numbers numpy would refuse in its own words
    ("read_h5ad/sparse index beyond the genes", lambda t: expression_data.read_h5ad(sparse_h5ad(t, indices=(0, 1, 2, 0))),
     ValueError, "indices", r"gene numbers in 0\.\.1"),
    ("read_h5ad/negative sparse index", lambda t: expression_data.read_h5ad(sparse_h5ad(t, indices=(0, -1, 1, 0))),
     ValueError, "indices"),
    ("read_h5ad/decreasing indptr", lambda t: expression_data.read_h5ad(sparse_h5ad(t, indptr=(0, 3, 2, 4))),
     ValueError, "indptr", "decreasing"),
    ("read_h5ad/indptr too short", lambda t: expression_data.read_h5ad(sparse_h5ad(t, indptr=(0, 2, 4))),
     ValueError, "indptr", "4 entries"),
    ("read_h5ad/indptr not ending at len(indices)",
     lambda t: expression_data.read_h5ad(sparse_h5ad(t, indptr=(0, 1, 2, 3))), ValueError, "indptr"),
    ("read_h5ad/CSC index beyond the cells",
     lambda t: expression_data.read_h5ad(sparse_h5ad(t, indices=(0, 3, 1, 2), indptr=(0, 2, 4), fmt="csc_matrix")),
     ValueError, "indices", "cell numbers"),
    ("simulate_gene_programs/loading 40 (numpy: lam value too large)",
     lambda t: expression_data.simulate_gene_programs(n_cells=20, loading=40, seed=0), ValueError, "loading"),
    # nas: a search history read back
    ("SearchHistory.read_csv/cached 'maybe'", lambda t: nas.SearchHistory.read_csv(history_csv(t, "maybe")),
     ValueError, "cached", "True, False or blank"),
    # explain: shap's deep explainer
    ("shap_values/functional activations", lambda t: explain.shap_values(functional_relu_net(), TABLE[:3], TABLE),
     ValueError, "model", "method='gradient'"),
    ("shap_values/tuple output", lambda t: explain.shap_values(tuple_dense_net(), TABLE[:3], TABLE), ValueError,
     "model", "an error from shap"),
]


def test_there_are_at_least_60_cases():
    assert len(CASES) >= 60


@pytest.mark.parametrize("call,kind,name,extra", [(*c[1:4], c[4] if len(c) > 4 else None) for c in CASES],
                         ids=[c[0] for c in CASES])
def test_a_wrong_meaning_is_refused_naming_the_argument(call, kind, name, extra, tmp_path):
    with pytest.raises(kind) as info:
        call(tmp_path)
    message = str(info.value)
    assert re.search(rf"(^|[\s:(]){re.escape(name)} must\b", message), message
    assert extra is None or re.search(extra, message), message


# --------------------------------------------------------------------------- warnings
class _Stubborn:
    """A controller sure of one arc: it redraws it for ever."""

    model_space = None

    def get_action(self):
        return [1, 2], [np.array([0.0, 1.0]), np.array([0.0, 0.0, 1.0])]

    def update(self, arc, reward):
        return None


WARNS = [
    ("search/children budget not met in max_draws",
     lambda: nas.search(_Stubborn(), reward, n_trials=3, budget="children", max_draws=5, progress=False,
                        model_space=small_space()), RuntimeWarning, r"only 1 of n_trials=3 .*max_draws=5"),
    ("datasets.read_h5ad (moved)", lambda: datasets.read_h5ad, DeprecationWarning,
     r"read_h5ad has moved to workshop_utils\.expression_data\.read_h5ad"),
    ("backend.mutant_scorer (moved)", lambda: backend.mutant_scorer, DeprecationWarning,
     r"mutant_scorer has moved to workshop_utils\.mutagenesis"),
]


@pytest.mark.parametrize("call,kind,pattern", [c[1:] for c in WARNS], ids=[c[0] for c in WARNS])
def test_a_plausible_but_doubtful_call_warns_naming_the_argument(call, kind, pattern):
    with pytest.warns(kind, match=pattern):
        call()


# --------------------------------------------------------------------------- adaptive: the right answer
@pytest.mark.parametrize("make", [sigmoid_sequential, sigmoid_module], ids=["Sequential", "module"])
def test_a_sigmoid_ended_model_gives_its_own_probabilities_not_a_second_sigmoid(make):
    import torch

    m = make()
    with torch.no_grad():
        expected = m(torch.from_numpy(X)).reshape(-1).numpy()            # the model's own probabilities
        logit = _linear()(torch.from_numpy(X)).reshape(-1).numpy()        # the same weights (seed 0), pre-sigmoid
    proba = backend.predict_proba(m, X)
    np.testing.assert_allclose(proba, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(backend.logits(m, X), logit, rtol=1e-5, atol=1e-5)
    assert not np.allclose(proba, backend.sigmoid(expected), atol=1e-3)  # what a second sigmoid gave before
    # metrics built on it are those of the model's probabilities
    assert metrics.binary_metrics(Y, proba)["accuracy"] == metrics.binary_metrics(Y, expected)["accuracy"]
    # gradients are those of the logit, as for the model without its sigmoid
    np.testing.assert_allclose(backend.input_gradient(m, X), backend.input_gradient(_linear(), X), atol=1e-6)


def test_a_sigmoid_ended_model_trains_on_its_logits_and_ism_scores_logits():
    import torch

    m = sigmoid_sequential()
    ref = _linear()
    ha = training.fit(m, (X, Y), (X, Y), epochs=2, progress=False, seed=0, patience=None)
    hb = training.fit(ref, (X, Y), (X, Y), epochs=2, progress=False, seed=0, patience=None)
    np.testing.assert_allclose(ha["loss"], hb["loss"], rtol=1e-5)  # the same BCE-with-logits as without the sigmoid
    with torch.no_grad():
        assert torch.allclose(m[0][1].weight, ref[1].weight, atol=1e-6)
    np.testing.assert_allclose(attribution.ism(m, X[:2], progress=False), attribution.ism(ref, X[:2], progress=False),
                               atol=1e-5)


def test_a_failed_meaning_check_changes_nothing():
    import torch

    m = cnn()
    before = [p.detach().clone() for p in m.parameters()]
    with pytest.raises(ValueError, match="optimizer"):
        training.fit(m, (X, Y), (X, Y), optimizer=foreign_optimizer(), progress=False)
    assert all(torch.equal(a, b) for a, b in zip(before, m.parameters()))


def test_blank_cached_cells_of_concatenated_histories_are_trained_children(tmp_path):
    """Two histories concatenated with pandas (one without a cached column): blanks used to read as True."""
    import pandas as pd

    a = _search(n_trials=3).table
    b = _search(n_trials=2).table.drop(columns=["cached"])
    both = pd.concat([a, b], ignore_index=True)
    both["trial"] = range(len(both))
    both.to_csv(tmp_path / "both.csv", index=False)
    hist = nas.SearchHistory.read_csv(tmp_path / "both.csv", small_space())
    assert [r["cached"] for r in hist.records][3:] == [False, False]
    assert len(hist.best_per_child) == int((~a["cached"]).sum()) + 2


def test_a_refused_tuner_writes_nothing(tmp_path):
    for bad in ({"objective": "val_loss", "direction": "max"}, {"objective": "val_f1"}, {"direction": "up"}):
        with pytest.raises(ValueError):
            _tuner(tmp_path, **bad)
    assert not (tmp_path / "runs").exists()


def test_fractions_and_the_presets_of_the_package_are_valid():
    for name, preset in datasets.PRESETS.items():
        assert dataclasses.replace(preset) == preset, name  # re-validated, unchanged
    assert datasets.SimulationPreset(p_bound_without_site=1, flank_site_rate=0).p_bound_without_site == 1.0
    assert metrics.binary_metrics(Y, P, threshold=1)["threshold"] == 1.0


# --------------------------------------------------------------------------- tuning keeps the best model
def _accuracy_hypermodel(hp):
    """Two choices: one trains a model that predicts, one a model that cannot (its weights are frozen at 0)."""
    import keras

    good = hp.Choice("good", [0, 1])
    inp = keras.Input((4,))
    dense = keras.layers.Dense(1, kernel_initializer="zeros", bias_initializer="zeros", trainable=bool(good))
    model = keras.Model(inp, keras.layers.Activation("sigmoid")(dense(inp)))
    model.compile(optimizer=keras.optimizers.Adam(0.1), loss="binary_crossentropy", metrics=["accuracy"])
    return model


def test_make_tuner_uses_keras_tuners_direction_and_keeps_the_best_model(tmp_path):
    import keras_tuner as kt

    tuner = tuning.make_tuner("grid", _accuracy_hypermodel, tmp_path, "acc", max_trials=2, objective="val_accuracy")
    assert tuner.oracle.objective.direction == "max"
    assert tuning.make_tuner("grid", _accuracy_hypermodel, tmp_path, "l", objective="val_loss").oracle.objective \
        .direction == "min"
    assert tuning.make_tuner("grid", _accuracy_hypermodel, tmp_path, "m", objective="val_f1",
                             direction="max").oracle.objective.direction == "max"
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.float32)
    tuner.search(x[:150], y[:150], validation_data=(x[150:], y[150:]), epochs=15, verbose=0)
    best = tuner.get_best_hyperparameters(1)[0]
    assert best.get("good") == 1  # the trained model, whose accuracy is higher
    scores = {t.hyperparameters.get("good"): t.score for t in tuner.oracle.trials.values()}
    assert scores[1] > scores[0] + 0.2
    assert isinstance(tuner.oracle.objective, kt.Objective)


def test_a_tuner_budget_the_space_cannot_meet_warns(tmp_path):
    tuner = tuning.make_tuner("grid", tuning.latent_size_hypermodel(3, latent=(1, 2), depth=1, width=4), tmp_path,
                              "p", max_trials=5)
    X3 = np.random.default_rng(0).random((20, 3)).astype(np.float32)
    with pytest.warns(RuntimeWarning, match=r"run_search: 2 of max_trials=5 trials ran"):
        table = tuning.run_search(tuner, X3, X3, epochs=1)
    assert len(table) == 2


def test_the_tybalt_hypermodel_works_with_make_tuner_and_run_search(tmp_path):
    hm = tuning.tybalt_hypermodel(6, latent_dims=(2,), learning_rates=(1e-3,), kappas=(1.0,), batch_sizes=(16,),
                                  epochs=(1, 2), hidden=(4,))
    tuner = tuning.make_tuner("grid", hm, tmp_path, "tybalt", max_trials=2)
    assert (tuner.oracle.objective.name, tuner.oracle.objective.direction) == ("val_loss_beta1", "min")
    X6 = np.random.default_rng(1).random((40, 6)).astype(np.float32)
    table = tuning.run_search(tuner, X6[:30], X6[30:])
    assert len(table) == 2 and table["score"].notna().all() and sorted(table["epochs"]) == [1, 2]
