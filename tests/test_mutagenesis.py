"""In-silico mutagenesis (workshop_utils.mutagenesis): the loop and its shortcuts against plain reference loops."""
import numpy as np
import pytest

from workshop_utils import attribution, backend, mutagenesis
from workshop_utils.mutagenesis import ism


def naive_ism(model, X):
    """The loop the course starts from: one forward pass per mutant, then centre per position."""
    n, L, _ = X.shape
    ref = backend.logits(model, X)
    out = np.zeros((n, L, 4))
    for k in range(n):
        for i in range(L):
            for b in range(4):
                if X[k, i, b] == 1:
                    continue
                m = X[k:k + 1].copy()
                m[0, i] = 0
                m[0, i, b] = 1
                out[k, i, b] = backend.logits(model, m)[0] - ref[k]
    return out - out.mean(-1, keepdims=True)


@pytest.mark.parametrize("which", ["torch_cnn", "keras_cnn"])
def test_ism_matches_the_plain_loop(which, request, onehot):
    model = request.getfixturevalue(which)
    X = onehot[:3] if which == "torch_cnn" else onehot[:2]
    expected = naive_ism(model, X)
    got = ism(model, X, batch_size=7)  # chunks that cut across sequences
    assert got.shape == X.shape and got.dtype == np.float32
    np.testing.assert_allclose(got, expected, atol=1e-5)
    assert np.abs(got).max() > 1e-4  # the toy model is not constant
    observed = ism(model, X, hypothetical=False, batch_size=1000)
    np.testing.assert_allclose(observed, expected * X, atol=1e-5)
    assert (observed[X == 0] == 0).all()


def test_ism_window_and_centring(torch_cnn, onehot):
    full = ism(torch_cnn, onehot)
    np.testing.assert_allclose(full.sum(-1), 0, atol=1e-5)
    part = ism(torch_cnn, onehot, start=5, end=-5, batch_size=50)
    assert part.shape == onehot.shape
    np.testing.assert_allclose(part[:, 5:-5], full[:, 5:-5], atol=1e-6)
    assert (part[:, :5] == 0).all() and (part[:, -5:] == 0).all()


def test_ism_on_an_unknown_base_mutates_all_four(torch_cnn, onehot):
    X = onehot[:1].copy()
    X[0, 4] = 0  # an N
    got = ism(torch_cnn, X, start=4, end=5)
    ref = backend.logits(torch_cnn, X)[0]
    deltas = []
    for b in range(4):
        m = X.copy()
        m[0, 4, b] = 1
        deltas.append(backend.logits(torch_cnn, m)[0] - ref)
    np.testing.assert_allclose(got[0, 4], np.array(deltas) - np.mean(deltas), atol=1e-5)


def test_ism_rejects_bad_arguments(torch_cnn, onehot):
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        ism(torch_cnn, onehot, batch_size=0)
    with pytest.raises(ValueError, match="start/end must select"):
        ism(torch_cnn, onehot, start=10, end=10)
    with pytest.raises(TypeError, match="start must be an int"):
        ism(torch_cnn, onehot, start=1.5)
    with pytest.raises(ValueError, match=r"shape \(N, L, 4\)"):
        ism(torch_cnn, onehot.transpose(0, 2, 1))
    with pytest.raises(TypeError, match="keras.Model or a torch.nn.Module"):
        ism(object(), onehot)
    with pytest.raises(TypeError, match="hypothetical must be True or False"):
        ism(torch_cnn, onehot, hypothetical="yes")


def test_plot_ism_heatmap_and_window_vs_motif():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from workshop_utils.motifs import ctcf_pfm
    from workshop_utils.plotting import plot_ism_heatmap, plot_window_vs_motif
    from workshop_utils.sequences import random_sequences

    x = random_sequences(1, 60, seed=0)[0]
    scores = np.random.default_rng(0).normal(size=(60, 4)) * 0.01
    # plant the CTCF logo (reverse strand) at 30..48: the window plot must find it there
    ppm = ctcf_pfm()
    scores[30:49] = (ppm - 0.25)[::-1, ::-1] * 5
    ax = plot_ism_heatmap(scores, x=x, title="t")
    assert ax.get_title() == "t" and len(ax.images) == 1
    assert ax.images[0].get_array().shape == (4, 60)
    axes = plot_window_vs_motif(scores, half_width=10)
    assert len(axes) == 2
    title = axes[1].get_title()
    assert "- strand" in title and float(title.split("r = ")[1]) > 0.8
    lo, hi = axes[0].get_xlim()
    assert 18 <= lo and hi <= 62  # the window is around the planted block
    with pytest.raises(ValueError, match=r"plot_ism_heatmap: scores must be an array of shape \(L, 4\)"):
        plot_ism_heatmap(scores.T)
    with pytest.raises(ValueError, match="x must be the one-hot sequence scored, with the shape of scores"):
        plot_ism_heatmap(scores, x=x[:10])
    with pytest.raises(ValueError, match="center must be an integer"):
        plot_window_vs_motif(scores, center=60)
    plt.close("all")


# --- the PyTorch shortcut: patch the first convolution's output instead of recomputing it ----


def _torch_model(conv_kwargs, reuse_input=False, L=30, seed=0):
    """Conv1d on the input, then tanh, max-pool and a linear head; optionally the raw input again."""
    import torch

    torch.manual_seed(seed)

    class M(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv1d(4, 3, **conv_kwargs)
            out_len = self.conv(torch.zeros(1, 4, L)).shape[-1]
            self.pool = torch.nn.MaxPool1d(2)
            self.fc = torch.nn.Linear(3 * (out_len // 2), 1)
            self.skip = torch.nn.Linear(4 * L, 1)

        def forward(self, x):
            h = self.pool(torch.tanh(self.conv(x.transpose(1, 2)))).flatten(1)
            out = self.fc(h)
            return out + self.skip(x.flatten(1)) if reuse_input else out

    return M().eval()


@pytest.mark.parametrize("conv_kwargs", [
    {"kernel_size": 5, "padding": "same"},
    {"kernel_size": 4, "padding": "same"},      # even kernel: torch pads one more on the right
    {"kernel_size": 5, "padding": "valid"},
    {"kernel_size": 3, "padding": 4},           # output longer than the input
])
def test_first_conv_and_pooled_window_updates_are_exact(conv_kwargs, onehot):
    model = _torch_model(conv_kwargs)  # conv -> tanh -> MaxPool1d(2): the pooled-window shortcut applies
    scorer = mutagenesis.mutant_scorer(model, onehot)
    assert scorer.method == "pooled-window update"
    X = onehot.copy()
    X[2, 7] = 0.25  # an N: the update handles columns that are not one-hot
    full = ism(model, X, fast=False, batch_size=37)
    fast = ism(model, X, batch_size=37)  # chunks that cut across sequences
    np.testing.assert_allclose(fast, full, atol=1e-5)
    np.testing.assert_allclose(fast[:2], naive_ism(model, X[:2]), atol=1e-5)
    seq, pos, base = (a[:200] for a in np.nonzero(X != 1))
    want = backend.logits(model, mutagenesis.MutantScorer(model, X).mutants(seq, pos, base))
    found = mutagenesis.input_conv(model, X[:1])
    for scorer in (mutagenesis.mutant_scorer(model, X), mutagenesis.ConvUpdateScorer(model, X, *found)):
        # the parents' outputs are computed in blocks: a block smaller than a chunk still works
        scorer.block = 2
        assert scorer.agrees()
        np.testing.assert_allclose(scorer(seq, pos, base), want, atol=1e-5)


@pytest.mark.parametrize("length", [200, 60])
def test_pooled_window_update_on_the_day1_cnn_is_plain_ism(length):
    """The Day-1 CNN (conv 24x19 'same', relu, max-pool 25, dense): the shortcut ISM uses is exact."""
    from workshop_utils.models import torch_ctcf_cnn
    from workshop_utils.sequences import random_sequences

    model = torch_ctcf_cnn(seq_len=length, seed=3)
    X = random_sequences(5, length, seed=2)
    assert mutagenesis.mutant_scorer(model, X).method == "pooled-window update"
    fast = ism(model, X, batch_size=512)
    assert np.abs(fast).max() > 1e-3
    np.testing.assert_allclose(fast, ism(model, X, fast=False, batch_size=512), atol=2e-5)
    np.testing.assert_allclose(fast[:1], naive_ism(model, X[:1]), atol=2e-5)
    np.testing.assert_allclose(ism(model, X, start=3, end=41, batch_size=97, hypothetical=False),
                               ism(model, X, start=3, end=41, fast=False, hypothetical=False), atol=2e-5)


def test_keras_day1_cnn_ism_is_plain_ism():
    from workshop_utils.models import keras_ctcf_cnn
    from workshop_utils.sequences import random_sequences

    model = keras_ctcf_cnn(seq_len=50, pool_size=10, seed=1)
    X = random_sequences(2, 50, seed=4)
    assert mutagenesis.mutant_scorer(model, X).method == "full forward pass"
    got = ism(model, X, batch_size=64)
    assert np.abs(got).max() > 1e-4
    np.testing.assert_allclose(got, naive_ism(model, X), atol=1e-5)


def _between_conv_and_pool(op):
    """A torch CNN with ``op`` between its first convolution and its max-pool."""
    import torch

    torch.manual_seed(1)

    class M(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv1d(4, 3, 5, padding=2)
            self.norm = torch.nn.InstanceNorm1d(3)
            self.pool = torch.nn.MaxPool1d(3)
            self.fc = torch.nn.Linear(30, 1)

        def forward(self, x):
            return self.fc(self.pool(op(self, self.conv(x.transpose(1, 2)))).flatten(1))

    return M().eval()


@pytest.mark.parametrize("name,op,method", [
    ("relu, a pointwise function", lambda m, h: torch_relu(h), "pooled-window update"),
    ("InstanceNorm1d, a module that mixes positions", lambda m, h: m.norm(h), "first-convolution update"),
    ("h - mean over positions, a function that mixes them", lambda m, h: h - h.mean(-1, keepdim=True),
     "first-convolution update"),
])
def test_the_pooled_window_shortcut_falls_back_where_positions_mix(name, op, method, onehot):
    model = _between_conv_and_pool(op)
    assert mutagenesis.mutant_scorer(model, onehot).method == method, name
    np.testing.assert_allclose(ism(model, onehot), ism(model, onehot, fast=False), atol=1e-5)
    np.testing.assert_allclose(ism(model, onehot[:1]), naive_ism(model, onehot[:1]), atol=1e-5)


def torch_relu(h):
    import torch

    return torch.relu(h)


def test_ism_lives_in_mutagenesis_and_the_old_names_still_work():
    assert attribution.ism is mutagenesis.ism
    with pytest.warns(DeprecationWarning, match=r"backend\.input_conv has moved to workshop_utils\.mutagenesis"):
        assert backend.input_conv is mutagenesis.input_conv


def test_nas_built_torch_model_takes_the_shortcut(onehot):
    from workshop_utils.nas import ModelSpace, Operation, SequentialModelBuilder

    space = ModelSpace.from_dict([
        [Operation("conv1d", filters=4, kernel_size=5, activation="relu")],
        [Operation("maxpool1d", pool_size=3)],
        [Operation("conv1d", filters=3, kernel_size=3, activation="relu", padding="valid")],
        [Operation("flatten")],
    ])
    model = SequentialModelBuilder(Operation("input", shape=(30, 4)), Operation("dense", units=1, activation="sigmoid"),
                                   space, {"loss": "binary_crossentropy", "optimizer": "adam"}, "torch")([0, 0, 0, 0])
    assert mutagenesis.mutant_scorer(model, onehot).method != "full forward pass"
    model.train()  # ism evaluates in eval mode and gives the mode back
    np.testing.assert_allclose(ism(model, onehot), ism(model, onehot, fast=False), atol=1e-5)
    assert model.training


def test_a_model_that_reuses_its_input_falls_back_with_a_warning(onehot):
    import torch

    model = _torch_model({"kernel_size": 5, "padding": "same"}, reuse_input=True)
    # the pooled-window shortcut feeds the model a stand-in input: its probe sees the skip and refuses
    assert mutagenesis.mutant_scorer(model, onehot).method == "first-convolution update"
    full = ism(model, onehot, fast=False)
    np.testing.assert_allclose(full[:1], naive_ism(model, onehot[:1]), atol=1e-5)
    # the input is reused after the convolution, and the real mutants are fed: still exact
    np.testing.assert_allclose(ism(model, onehot), full, atol=1e-5)

    class Scaled(torch.nn.Module):  # on large batches the convolution sees 2x the input: not patchable
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, x):
            return self.inner(x * (2.0 if x.shape[0] > 20 else 1.0))

    tricky = Scaled(model).eval()
    # on one sequence and on the few mutants it is probed with, the conv input is the input itself,
    # so a shortcut is chosen ...
    scorer = mutagenesis.mutant_scorer(tricky, onehot)
    assert scorer.method == "first-convolution update"
    # ... and then caught on the first batch of mutants, which falls back to full passes
    with pytest.warns(RuntimeWarning, match="full forward passes"):
        got = ism(tricky, onehot, batch_size=64)
    np.testing.assert_allclose(got, ism(tricky, onehot, fast=False, batch_size=64), atol=1e-5)


@pytest.mark.parametrize("conv_kwargs", [
    {"kernel_size": 5, "stride": 2},
    {"kernel_size": 3, "dilation": 2, "padding": "same"},
    {"kernel_size": 3, "padding": 1, "padding_mode": "circular"},
])
def test_convolutions_the_shortcut_does_not_cover_run_the_whole_model(conv_kwargs, onehot):
    model = _torch_model(conv_kwargs)
    assert mutagenesis.mutant_scorer(model, onehot).method == "full forward pass"
    np.testing.assert_allclose(ism(model, onehot[:2]), naive_ism(model, onehot[:2]), atol=1e-5)


def test_mutant_scorer_rejects_bad_input_and_keras_runs_the_whole_model(torch_cnn, keras_cnn, onehot):
    assert mutagenesis.mutant_scorer(torch_cnn, onehot).method == "first-convolution update"
    assert mutagenesis.mutant_scorer(torch_cnn, onehot, fast=False).method == "full forward pass"
    assert mutagenesis.mutant_scorer(keras_cnn, onehot).method == "full forward pass"
    with pytest.raises(ValueError, match=r"shape \(N, L, 4\)"):
        mutagenesis.mutant_scorer(torch_cnn, onehot[0])
    with pytest.raises(TypeError, match="keras.Model or a torch.nn.Module"):
        mutagenesis.mutant_scorer(object(), onehot)
    with pytest.raises(TypeError, match="fast must be True or False"):
        ism(torch_cnn, onehot, fast="yes")
