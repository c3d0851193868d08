"""Bad input to the model-side modules (backend, mutagenesis, attribution, models, training, explain, nas).

Each case is what a student might really pass; it must raise the right exception type with a
message that names the argument (issue #13).  The tests after the table check the other half
of the promise: a call that fails on bad input leaves the model as it was, numpy integers are
accepted wherever ints are, and nothing is explained, trained or searched silently wrong.
"""
import re

import numpy as np
import pytest

from workshop_utils import attribution, backend, explain, models, mutagenesis, nas, training
from workshop_utils.nas import dense, enas
from workshop_utils.sequences import random_sequences

X = random_sequences(8, 30, seed=1)
Y = np.array([0, 1] * 4, dtype=np.float32)
DATA = (X, Y, X, Y)


def with_nan(a, where=(0, 0, 0)):
    a = np.array(a, dtype=np.float32)
    a[where] = np.nan
    return a


def cnn():
    """The Day-1 CNN, small: (N, 30, 4) -> logits (N, 1)."""
    return models.TorchCTCFCNN(seq_len=30, filters=3, kernel_size=5, pool_size=5, dense_units=4)


def two_outputs():
    import torch

    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(120, 2))


def channels_first():
    """A torch CNN written for (N, 4, L) input: it never transposes."""
    import torch

    class ChannelsFirst(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv1d(4, 3, 5)
            self.fc = torch.nn.Linear(3, 1)

        def forward(self, x):
            return self.fc(torch.relu(self.conv(x)).mean(-1))

    return ChannelsFirst()


def keras_cnn():
    return models.keras_ctcf_cnn(seq_len=30, filters=3, kernel_size=5, pool_size=5, dense_units=4)


def space():
    return nas.course_model_space()


def builder(backend_="torch", compile_dict=None):
    small = nas.ModelSpace.from_dict([[nas.Operation("conv1d", filters=3, kernel_size=5)], [nas.Operation("flatten")]])
    return nas.SequentialModelBuilder(nas.Operation("input", shape=(30, 4)),
                                      nas.Operation("dense", units=1, activation="sigmoid"), small,
                                      compile_dict, backend=backend_)


def dense_model():
    return dense.build_dense(dense.dense_model_space(), [0, 0, 0, 0, 0], n_features=5, n_classes=3)


TABLE = np.random.default_rng(0).normal(size=(12, 5)).astype(np.float32)
CODES = np.arange(12) % 3


def history():
    return nas.search(nas.RandomController(space(), seed=0), lambda arc: 0.5, n_trials=2, progress=False)


CASES = [
    # backend
    ("logits/not a model", lambda: backend.logits(object(), X), TypeError, "model"),
    ("logits/NaN in X", lambda: backend.logits(cnn(), with_nan(X)), ValueError, "X"),
    ("logits/batch_size 0", lambda: backend.logits(cnn(), X, batch_size=0), ValueError, "batch_size"),
    ("logits/channels-first model", lambda: backend.logits(channels_first(), X), ValueError, "model", "transpose"),
    ("logits/Keras model for (N, 4, L)", lambda: backend.logits(_keras_channels_first(), X), ValueError, "model",
     r"keras\.Input\(\(L, 4\)\)"),
    ("logits/double model", lambda: backend.logits(cnn().double(), X), TypeError, "model", "float32"),
    ("predict_proba/inf in X", lambda: backend.predict_proba(cnn(), np.where(X > 0, np.inf, 0)), ValueError, "X"),
    ("input_gradient/target -1", lambda: backend.input_gradient(cnn(), X, target=-1), ValueError, "target"),
    ("count_params/a string", lambda: backend.count_params("model.pt"), TypeError, "model"),
    ("torch_seeded/negative seed", lambda: backend.torch_seeded(-1).__enter__(), ValueError, "seed"),
    # mutagenesis
    ("mutant_scorer/(N, 4, L)", lambda: mutagenesis.mutant_scorer(cnn(), X.transpose(0, 2, 1)), ValueError, "X"),
    ("mutant_scorer/fast=1", lambda: mutagenesis.mutant_scorer(cnn(), X, fast=1), TypeError, "fast"),
    # attribution
    ("saliency/two outputs, no target", lambda: attribution.saliency(two_outputs(), X), ValueError, "target"),
    ("gradient_x_input/target out of range", lambda: attribution.gradient_x_input(two_outputs(), X, target=5),
     ValueError, "target"),
    ("integrated_gradients/two outputs, no target", lambda: attribution.integrated_gradients(two_outputs(), X),
     ValueError, "target"),
    ("integrated_gradients/float n_steps", lambda: attribution.integrated_gradients(cnn(), X, n_steps=4.0),
     TypeError, "n_steps"),
    ("integrated_gradients/baseline shape", lambda: attribution.integrated_gradients(cnn(), X,
                                                                                      baseline=np.zeros((3, 4))),
     ValueError, "baseline"),
    ("integrated_gradients/NaN baseline", lambda: attribution.integrated_gradients(cnn(), X, baseline=np.nan),
     ValueError, "baseline"),
    ("saliency/not one-hot", lambda: attribution.saliency(cnn(), X * 2), ValueError, "X"),
    ("saliency/double model", lambda: attribution.saliency(cnn().double(), X), TypeError, "model", "^saliency: "),
    ("ism/two outputs", lambda: attribution.ism(two_outputs(), X), ValueError, "model"),
    ("ism/float start", lambda: attribution.ism(cnn(), X, start=1.5), TypeError, "start"),
    ("ism/bool batch_size", lambda: attribution.ism(cnn(), X, batch_size=True), TypeError, "batch_size"),
    ("ism/progress='yes'", lambda: attribution.ism(cnn(), X, progress="yes"), TypeError, "progress"),
    ("top_window/width 0", lambda: attribution.top_window(np.ones((2, 30)), width=0), ValueError, "width"),
    ("top_window/NaN", lambda: attribution.top_window(np.full((2, 30), np.nan)), ValueError, "importance"),
    ("position_importance/3 channels", lambda: attribution.position_importance(np.ones((2, 30, 3))),
     ValueError, "attr"),
    ("site_overlap/lengths differ", lambda: attribution.site_overlap(np.zeros(3), np.zeros(4)),
     ValueError, "site_start"),
    # models
    ("keras_ctcf_cnn/float filters", lambda: models.keras_ctcf_cnn(filters=2.0), TypeError, "filters"),
    ("TorchCTCFCNN/dropout 1", lambda: models.TorchCTCFCNN(conv_dropout=1.0), ValueError, "conv_dropout"),
    ("keras_ctcf_cnn/pool > length", lambda: models.keras_ctcf_cnn(pool_size=300), ValueError, "pool_size"),
    ("keras_ctcf_cnn/negative learning_rate", lambda: models.keras_ctcf_cnn(learning_rate=-1), ValueError,
     "learning_rate"),
    ("copy_keras_weights/two torch models", lambda: models.copy_keras_weights(cnn(), cnn()), TypeError,
     "keras_model"),
    # training
    ("fit/NaN in train X", lambda: training.fit(cnn(), (with_nan(X), Y), (X, Y), progress=False), ValueError,
     "train X"),
    ("fit/-1/+1 labels", lambda: training.fit(cnn(), (X, 2 * Y - 1), (X, Y), progress=False), ValueError,
     "train y", r"-1/\+1"),
    ("fit/probabilities as labels", lambda: training.fit(cnn(), (X, Y), (X, Y * 0.9), progress=False), ValueError,
     "valid y"),
    ("fit/a Keras model", lambda: training.fit(keras_cnn(), (X, Y), (X, Y), progress=False), TypeError, "model"),
    ("fit/two outputs", lambda: training.fit(two_outputs(), (X, Y), (X, Y), progress=False), ValueError, "model"),
    ("fit/channels-first model", lambda: training.fit(channels_first(), (X, Y), (X, Y), progress=False),
     ValueError, "model", "^fit: .*transpose"),
    ("fit/lr 0", lambda: training.fit(cnn(), (X, Y), (X, Y), lr=0, progress=False), ValueError, "lr"),
    ("fit/float epochs", lambda: training.fit(cnn(), (X, Y), (X, Y), epochs=2.0, progress=False), TypeError,
     "epochs"),
    ("fit/train is X only", lambda: training.fit(cnn(), X, (X, Y), progress=False), TypeError, "train"),
    ("evaluate/NaN label", lambda: training.evaluate(cnn(), X, with_nan(Y, 0)), ValueError, "y"),
    ("evaluate/threshold 1.5", lambda: training.evaluate(cnn(), X, Y, threshold=1.5), ValueError, "threshold"),
    ("make_loader/shuffle='yes'", lambda: training.make_loader(X, Y, shuffle="yes"), TypeError, "shuffle"),
    ("keras_callbacks/.h5 path", lambda: training.keras_callbacks(checkpoint_path="best.h5"), ValueError,
     "checkpoint_path"),
    ("OneHotDataset/(N, 4, L)", lambda: training.OneHotDataset(X.transpose(0, 2, 1), Y), ValueError, "X"),
    # explain
    ("shap_values/NaN in X", lambda: explain.shap_values(dense_model(), with_nan(TABLE, (0, 0)), TABLE),
     ValueError, "X"),
    ("shap_values/method 'kernel'", lambda: explain.shap_values(dense_model(), TABLE, TABLE, method="kernel"),
     ValueError, "method"),
    ("shap_values/a Keras model", lambda: explain.shap_values(keras_cnn(), TABLE, TABLE), TypeError, "model"),
    ("class_gene_ranking/code out of range", lambda: explain.class_gene_ranking(
        np.zeros((4, 5, 2)), np.array([0, 1, 2, 1]), list("abcde"), ["x", "y"]), ValueError, "y"),
    ("check_markers/top_k 0", lambda: explain.check_markers({}, top_k=0), ValueError, "top_k"),
    # nas: space, builder, controllers, search
    ("Operation/float filters", lambda: nas.Operation("conv1d", filters=8.5, kernel_size=3), TypeError, "filters"),
    ("Operation/dropout rate NaN", lambda: nas.Operation("dropout", rate=float("nan")), ValueError, "rate"),
    ("SequentialModelBuilder/backend 'tf'", lambda: builder("tf"), ValueError, "backend"),
    ("SequentialModelBuilder/learning_rate 'fast'", lambda: builder("torch", {"learning_rate": "fast"}), TypeError,
     "model_compile_dict['learning_rate']"),
    ("builder/seed -1", lambda: builder()([0, 0], seed=-1), ValueError, "seed"),
    ("GeneralController/temperature 0", lambda: nas.GeneralController(space(), temperature=0), ValueError,
     "temperature"),
    ("GeneralController/seed -1", lambda: nas.GeneralController(space(), seed=-1), ValueError, "seed"),
    ("RandomController.update/NaN reward", lambda: nas.RandomController(space()).update([0, 0, 0, 0], np.nan),
     ValueError, "reward"),
    ("search/n_trials 0 (numpy)", lambda: nas.search(nas.RandomController(space()), lambda a: 0.5,
                                                     n_trials=np.int64(0)), ValueError, "n_trials"),
    ("search/negative time_budget", lambda: nas.search(nas.RandomController(space()), lambda a: 0.5,
                                                       time_budget=-1), ValueError, "time_budget"),
    ("search/resume without a file", lambda: nas.search(nas.RandomController(space()), lambda a: 0.5,
                                                        resume=True), ValueError, "history_path"),
    ("search/NaN reward", lambda: nas.search(nas.RandomController(space()), lambda a: float("nan"),
                                             progress=False), ValueError, "reward"),
    ("cnn_evaluator/NaN in X", lambda: nas.cnn_evaluator(builder(), (with_nan(X), Y, X, Y)), ValueError,
     "data train X"),
    ("cnn_evaluator/labels 0 and 2", lambda: nas.cnn_evaluator(builder(), (X, 2 * Y, X, Y)), ValueError,
     "data train y"),
    ("cnn_evaluator/one validation class", lambda: nas.cnn_evaluator(builder(), (X, Y, X, Y * 0)), ValueError,
     "data"),
    ("cnn_evaluator/nonfinite_reward NaN", lambda: nas.cnn_evaluator(builder(), DATA, nonfinite_reward=np.nan),
     ValueError, "nonfinite_reward"),
    ("train_child/epochs 0", lambda: nas.train_child(cnn(), DATA, epochs=0), ValueError, "epochs"),
    ("train_child/uncompiled Keras model", lambda: nas.train_child(_uncompiled(), DATA), ValueError, "model"),
    ("train_child/lr -1", lambda: nas.train_child(cnn(), DATA, lr=-1), ValueError, "lr"),
    ("SearchHistory.read_csv/a folder", lambda: nas.SearchHistory.read_csv("."), IsADirectoryError, "path"),
    ("SearchHistory.read_csv/no file", lambda: nas.SearchHistory.read_csv("nope.csv"), FileNotFoundError, "path"),
    ("save_top_arcs/k 0", lambda: nas.save_top_arcs(history(), k=0), ValueError, "k"),
    ("save_top_arcs/not a history", lambda: nas.save_top_arcs([]), TypeError, "history"),
    # nas: dense and ENAS
    ("build_dense/framework 'jax'", lambda: dense.build_dense(dense.dense_model_space(), [0] * 5, 5, 3,
                                                              framework="jax"), ValueError, "framework"),
    ("fit_dense/NaN in X_train", lambda: dense.fit_dense(dense_model(), with_nan(TABLE, (0, 0)), CODES, TABLE, CODES),
     ValueError, "X_train"),
    ("fit_dense/code 3 for 3 classes", lambda: dense.fit_dense(dense_model(), TABLE, CODES + 1, TABLE, CODES),
     ValueError, "y_train"),
    ("fit_dense/float codes", lambda: dense.fit_dense(dense_model(), TABLE, CODES.astype(float), TABLE, CODES),
     TypeError, "y_train"),
    ("fit_dense/monitor 'f1'", lambda: dense.fit_dense(dense_model(), TABLE, CODES, TABLE, CODES, monitor="f1"),
     ValueError, "monitor"),
    ("predict_logits/1-D X", lambda: dense.predict_logits(dense_model(), TABLE[0]), ValueError, "X"),
    ("macro_f1/NaN logits", lambda: dense.macro_f1(CODES, np.full((12, 3), np.nan)), ValueError, "logits_or_pred"),
    ("class_weights/n_classes 0", lambda: dense.class_weights(CODES, 0), ValueError, "n_classes"),
    ("make_supernet/seed -1", lambda: enas.make_supernet(dense.dense_model_space(), 5, 3, seed=-1), ValueError,
     "seed"),
    ("train_shared/steps 0", lambda: enas.train_shared(enas.make_supernet(dense.dense_model_space(), 5, 3), TABLE,
                                                       CODES, [0] * 5, steps=0), ValueError, "steps"),
    ("score_shared/metric 'auc'", lambda: enas.score_shared(enas.make_supernet(dense.dense_model_space(), 5, 3),
                                                            [0] * 5, TABLE, CODES, metric="auc"), ValueError,
     "metric"),
    ("enas_search/NaN label", lambda: enas.enas_search(dense.dense_model_space(), TABLE, CODES,
                                                       TABLE, with_nan(CODES, 0)), ValueError, "y_valid"),
]


def _keras_channels_first():
    import keras

    return keras.Sequential([keras.Input((4, 30)), keras.layers.Flatten(), keras.layers.Dense(1),
                             keras.layers.Activation("sigmoid")])


def _uncompiled():
    import keras

    return keras.Sequential([keras.Input((30, 4)), keras.layers.Flatten(), keras.layers.Dense(1),
                             keras.layers.Activation("sigmoid")])


def test_there_are_enough_cases():
    assert len(CASES) >= 40


@pytest.mark.parametrize("call,kind,name,extra", [(*c[1:4], c[4] if len(c) > 4 else None) for c in CASES],
                         ids=[c[0] for c in CASES])
def test_bad_input_is_refused_naming_the_argument(call, kind, name, extra):
    """The message says ``fn: <argument> must be <expected>, got <value>`` (or, for a reward, ``reward for arc``)."""
    with pytest.raises(kind) as info:
        call()
    message = str(info.value)
    assert re.search(rf"(^|[\s:(]){re.escape(name)} (must|for)\b", message), message
    assert extra is None or re.search(extra, message), message


# --- a failed call changes nothing ---------------------------------------------------------------


def _weights(model):
    return [p.detach().clone() for p in model.parameters()]


@pytest.mark.parametrize("bad", [
    lambda m: training.fit(m, (with_nan(X, (3, 5, 1)), Y), (X, Y), progress=False),
    lambda m: training.fit(m, (X, Y), (X, 2 * Y - 1), progress=False),
    lambda m: training.fit(m, (X, Y), (X, Y), optimizer="rmsprop", progress=False),
    lambda m: nas.train_child(m, (X, Y, with_nan(X), Y)),
], ids=["NaN in X", "labels -1/+1", "unknown optimizer", "train_child NaN in valid"])
def test_a_failed_fit_leaves_the_weights_and_the_mode_as_they_were(bad):
    m = cnn()
    m.train()
    before = _weights(m)
    with pytest.raises(ValueError):
        bad(m)
    assert all((a == b).all() for a, b in zip(before, _weights(m))) and m.training


def test_a_failed_fit_dense_leaves_the_weights_as_they_were():
    m = dense_model()
    before = _weights(m)
    with pytest.raises(ValueError, match="y_valid"):
        dense.fit_dense(m, TABLE, CODES, TABLE, CODES + 5)
    assert all((a == b).all() for a, b in zip(before, _weights(m)))


def test_shap_values_gives_the_model_its_mode_back():
    m = dense_model()
    m.train()
    values = explain.shap_values(m, TABLE[:3], TABLE, method="gradient", seed=0)
    assert values.shape == (3, 5, 3) and m.training
    m.eval()
    explain.shap_values(m, TABLE[:3], TABLE)
    assert not m.training


def test_seeded_functions_leave_the_callers_random_state_alone():
    import torch

    torch.manual_seed(123)
    np.random.seed(7)
    expected_t, expected_np = torch.rand(3), np.random.rand(3)
    torch.manual_seed(123)
    np.random.seed(7)
    m = dense.build_dense(dense.dense_model_space(), [0, 0, 0, 0, 2], n_features=5, n_classes=3, seed=4)
    dense.fit_dense(m, TABLE, CODES, TABLE, CODES, epochs=2, seed=4)
    training.fit(cnn(), (X, Y), (X, Y), epochs=1, progress=False, seed=3)
    explain.shap_values(m, TABLE[:2], TABLE, method="gradient", seed=1)
    builder()([0, 0], seed=2)
    assert torch.equal(torch.rand(3), expected_t) and np.array_equal(np.random.rand(3), expected_np)


# --- numpy integers are integers ------------------------------------------------------------------


def test_numpy_integers_and_floats_are_accepted_where_python_ones_are():
    i = np.int64
    m = models.TorchCTCFCNN(seq_len=i(30), filters=i(3), kernel_size=i(5), pool_size=i(5), dense_units=i(4),
                            seed=i(1))
    h = training.fit(m, (X, Y), (X, Y), epochs=i(1), batch_size=i(4), lr=np.float32(1e-3), patience=i(1),
                     seed=i(0), progress=False)
    assert h["best_epoch"] == 0
    assert attribution.ism(m, X[:1], start=i(2), end=i(5), batch_size=i(7)).shape == (1, 30, 4)
    assert attribution.integrated_gradients(m, X[:2], n_steps=i(3), batch_size=i(1)).shape == (2, 30, 4)
    assert attribution.top_window(np.ones((2, 30)), width=i(5)).shape == (2,)
    assert backend.logits(m, X, batch_size=i(3)).shape == (8,)
    op = nas.Operation("conv1d", filters=i(8), kernel_size=i(3))
    assert op.params["filters"] == 8 and type(op.params["filters"]) is int
    hist = nas.search(nas.RandomController(space(), seed=i(1)), lambda a: 0.5, n_trials=i(2), progress=False,
                      time_budget=np.float32(60))
    assert len(hist) == 2 and len(hist.top_k(i(1))) == 1
    assert nas.GeneralController(space(), seed=i(2), lstm_size=i(8), temperature=np.float32(1.5)).lstm_size == 8
    assert dense.fit_dense(dense_model(), TABLE, CODES.astype(np.int32), TABLE, CODES, epochs=i(1),
                           batch_size=i(4), patience=i(1))["best_epoch"] == 0


# --- no silent wrong answer from a search ----------------------------------------------------------


@pytest.mark.parametrize("backend_", ["keras", "torch"])
def test_a_diverged_child_stops_the_search_with_a_clear_error(backend_):
    """A NaN score used to become a reward of 0.5 for every architecture, silently."""
    b = builder(backend_, {"loss": "binary_crossentropy", "optimizer": "sgd", "learning_rate": 1e30})
    rng = np.random.default_rng(0)
    Xl = random_sequences(120, 30, seed=0)
    yl = (rng.random(120) < 0.5).astype(np.float32)
    data = (Xl[:80], yl[:80], Xl[80:], yl[80:])
    with pytest.warns(RuntimeWarning) if backend_ == "torch" else _nothing():
        with pytest.raises(ValueError, match=r"cnn_evaluator: arc \[0, 0\] gave .*non-finite.*learning rate"):
            nas.search(nas.RandomController(b.model_space), nas.cnn_evaluator(b, data, epochs=1, batch_size=16),
                       n_trials=1, progress=False)
    with pytest.warns(RuntimeWarning, match="nonfinite_reward=0.5"):
        out = nas.cnn_evaluator(b, data, epochs=1, batch_size=16, nonfinite_reward=0.5)([0, 0])
    assert out["reward"] == 0.5


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
