"""workshop_utils.nas._torch_layers (``_torch_`` modules: tests/test_<pkg>_<rest>.py): the torch classes of
nas, the dense forward pass next to its class."""
from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from workshop_utils.nas import _torch_layers as tl  # noqa: E402
from workshop_utils.nas.dense import build_dense  # noqa: E402
from workshop_utils.nas.dense_space import arc_spec, dense_model_space, linear_shapes  # noqa: E402
from workshop_utils.nas.enas import make_supernet  # noqa: E402


def test_one_activation_table():
    assert isinstance(tl.activation_module("elu"), torch.nn.ELU)
    assert isinstance(tl.activation_module("linear"), torch.nn.Identity)
    with pytest.raises(ValueError, match="activation_module: name must be one of"):
        tl.activation_module("swish")


def test_dense_forward_is_the_classifier_and_the_supernet_pass():
    space = dense_model_space(units=(4, 8), depth=(1, 2), activation=("relu", "tanh"), dropout=(0.0, 0.5))
    arc = [1, 1, 1, 1, 0]
    model = build_dense(space, arc, 6, 3, seed=0).eval()
    x = torch.randn(5, 6)
    with torch.no_grad():
        by_hand = tl.dense_forward(tl.LinearView(model.linears), arc_spec(space, arc), x, model.acts)
        assert torch.equal(model(x), by_hand)
    assert set(linear_shapes(arc_spec(space, arc), 6, 3)) == {k.replace("_", "-") for k in model.linears}


def test_supernet_path_is_a_view_on_the_shared_weights():
    space = dense_model_space(units=(4,), depth=(1, 2), activation=("relu",), dropout=(0.0,))
    net = make_supernet(space, 6, 3, seed=0).eval()
    path = net.path([0, 0, 1, 0, 0])
    assert list(path.parameters()) == []          # a view: no weights of its own
    x = torch.randn(5, 6)
    with torch.no_grad():
        assert torch.equal(path(x), net(x, [0, 0, 1, 0, 0]))
    path(x).sum().backward()                      # gradients land on the supernet's layers
    used = {k.replace("-", "_") for k in net.child_keys([0, 0, 1, 0, 0])}
    assert all((m.weight.grad is not None) == (k in used) for k, m in net.linears.items())


def test_moved_names_warn_from_their_old_place():
    from workshop_utils.nas import dense

    with pytest.warns(DeprecationWarning, match="nas._torch_layers.dense_forward"):
        assert dense.dense_forward is tl.dense_forward
    with pytest.warns(DeprecationWarning, match="activation_module"):
        assert dense.activation_module is tl.activation_module
