"""workshop_utils.marginalize: planting motifs into backgrounds and reading the response."""
import numpy as np
import pytest

from workshop_utils import backend
from workshop_utils.marginalize import insert_motifs, marginalize
from workshop_utils.sequences import one_hot_encode, reverse_complement


def test_insert_motifs_writes_each_motif_at_its_start(onehot):
    m1, m2 = one_hot_encode("ACGTA")[0], one_hot_encode("GGG")[0]
    out = insert_motifs(onehot, [m1, m2], [2, 20])
    assert out.shape == onehot.shape and out.dtype == np.float32
    assert (out[:, 2:7] == m1).all() and (out[:, 20:23] == m2).all()
    keep = np.ones(30, bool)
    keep[2:7] = keep[20:23] = False
    assert (out[:, keep] == onehot[:, keep]).all()          # everything else untouched
    assert not np.shares_memory(out, onehot)
    # one motif and one start may be given bare; a later motif overwrites an earlier one
    assert (insert_motifs(onehot, m1, 0)[:, :5] == m1).all()
    over = insert_motifs(onehot, [m1, m2], [0, 3])
    assert (over[:, 3:6] == m2).all() and (over[:, :3] == m1[:3]).all()


def test_marginalize_is_the_logit_change(torch_cnn, onehot):
    m = one_hot_encode("CCGCGAGGGGGCGC")[0]
    before, after = marginalize(torch_cnn, onehot, [m, reverse_complement(m[None])[0]], [0, 15])
    assert before.shape == after.shape == (8,)
    np.testing.assert_allclose(before, backend.logits(torch_cnn, onehot), rtol=1e-5, atol=1e-6)
    planted = insert_motifs(onehot, [m, reverse_complement(m[None])[0]], [0, 15])
    np.testing.assert_allclose(after, backend.logits(torch_cnn, planted), rtol=1e-5, atol=1e-6)
    assert not np.allclose(after, before)


def test_marginalize_keras_equals_torch_path(keras_cnn, onehot):
    m = one_hot_encode("ACGTACGT")[0]
    before, after = marginalize(keras_cnn, onehot, [m], [5], batch_size=3)
    np.testing.assert_allclose(after, backend.logits(keras_cnn, insert_motifs(onehot, m, 5)), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(before, backend.logits(keras_cnn, onehot), rtol=1e-5, atol=1e-6)


def test_bad_input_names_the_argument(torch_cnn, onehot):
    m = one_hot_encode("ACGT")[0]
    with pytest.raises(ValueError, match=r"insert_motifs: starts\[0\] must be an int in \[0, 26\]"):
        insert_motifs(onehot, [m], [27])
    with pytest.raises(ValueError, match=r"starts must be one int per motif \(2\)"):
        insert_motifs(onehot, [m, m], [1])
    with pytest.raises(TypeError, match="insert_motifs: motifs must be a non-empty list"):
        insert_motifs(onehot, "ACGT", [0])
    with pytest.raises(TypeError, match="insert_motifs: motifs must be a non-empty list"):
        insert_motifs(onehot, [], [])
    with pytest.raises(ValueError, match=r"motifs\[0\]"):
        insert_motifs(onehot, [np.full((4, 4), 0.5, np.float32)], [0])
    with pytest.raises(ValueError, match=r"starts\[0\]"):
        insert_motifs(onehot, [m], [-1])
    with pytest.raises(ValueError, match=r"insert_motifs: X must be a one-hot DNA array"):
        insert_motifs(onehot[0], [m], [0])
    with pytest.raises(TypeError, match="marginalize: model"):
        marginalize(object(), onehot, [m], [0])
    with pytest.raises(ValueError, match="marginalize: batch_size"):
        marginalize(torch_cnn, onehot, [m], [0], batch_size=0)
