"""The autoencoder lesson's toy genes (workshop_utils.toy_data)."""
import numpy as np
import pytest

from workshop_utils.toy_data import toy_genes


def test_toy_genes_and_products():
    X, names = toy_genes(100, n_genes=3, seed=0)
    assert X.shape == (100, 6) and names == ["g1", "g2", "g3", "g1*g2", "g1*g3", "g2*g3"]
    np.testing.assert_allclose(X[:, 3], X[:, 0] * X[:, 1], rtol=1e-6)
    assert X.min() >= 0 and X.max() <= 1
    X2, names2 = toy_genes(10, n_genes=2, products=False)
    assert X2.shape == (10, 2) and names2 == ["g1", "g2"]
    with pytest.raises(ValueError, match="n_genes"):
        toy_genes(10, n_genes=0)


def test_toy_genes_is_deterministic_and_takes_a_generator():
    a, _ = toy_genes(20, seed=np.int64(5))
    b, _ = toy_genes(20, seed=np.random.default_rng(5))
    np.testing.assert_array_equal(a, b)
