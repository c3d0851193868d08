import numpy as np
import pytest

from workshop_utils.sequences import (batches, one_hot_decode, one_hot_encode, random_sequences,
                                      reverse_complement, validate_one_hot)


def test_encode_shape_order_and_roundtrip():
    X = one_hot_encode(["ACGT", "TTGA"])
    assert X.shape == (2, 4, 4) and X.dtype == np.float32
    np.testing.assert_array_equal(X[0], np.eye(4))
    assert one_hot_decode(X) == ["ACGT", "TTGA"]


def test_lower_case_and_n_policy():
    X = one_hot_encode("acgN")
    np.testing.assert_allclose(X[0, 3], [0.25] * 4)
    assert one_hot_decode(X) == ["ACGN"]
    assert one_hot_encode("N", n_value=0).sum() == 0


def test_bad_character_names_sequence_and_position():
    with pytest.raises(ValueError, match=r"one_hot_encode: seqs must be DNA over A, C, G, T, N \(either case\), got 'X' in sequence 1 at position 2"):
        one_hot_encode(["ACGT", "ACXT"])


def test_unequal_lengths_rejected():
    with pytest.raises(ValueError, match=r"seqs must be sequences of one length .*got lengths \[3, 4\]"):
        one_hot_encode(["ACGT", "ACG"])


def test_wrong_type_rejected():
    with pytest.raises(TypeError, match="seqs must be"):
        one_hot_encode(42)


def test_reverse_complement_string_and_array():
    assert reverse_complement("AACG") == "CGTT"
    X = one_hot_encode(["AACG", "GATT"])
    assert one_hot_decode(reverse_complement(X)) == ["CGTT", "AATC"]
    with pytest.raises(ValueError, match=r"reverse_complement: X must be DNA .*got characters \['U'\]"):
        reverse_complement("ACGU")


def test_validate_one_hot_messages():
    X = random_sequences(3, 10)
    assert validate_one_hot(X).dtype == np.float32
    with pytest.raises(ValueError, match=r"did you pass \(N, 4, L\)"):
        validate_one_hot(X.transpose(0, 2, 1))
    bad = X.copy()
    bad[1, 4] = [1, 1, 0, 0]
    with pytest.raises(ValueError, match=r"validate_one_hot: X must be one-hot.*got sequence 1, position 4"):
        validate_one_hot(bad)
    nan = X.copy()
    nan[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        validate_one_hot(nan)


def test_batches_cover_range():
    assert [(s.start, s.stop) for s in batches(5, 2)] == [(0, 2), (2, 4), (4, 5)]
    with pytest.raises(ValueError, match="batch_size"):
        list(batches(5, 0))


def test_random_sequences_deterministic():
    np.testing.assert_array_equal(random_sequences(4, 8, seed=3), random_sequences(4, 8, seed=3))


def test_dinucleotide_shuffle_keeps_every_2mer_count():
    from workshop_utils.sequences import dinucleotide_shuffle

    X = random_sequences(50, 120, seed=3)
    X[:5, 40:60] = one_hot_encode("CCGCGAGGGGGCGCTAGTGG" * 1)[0]      # a CTCF-like site to break up
    S = dinucleotide_shuffle(X, seed=0)
    assert S.shape == X.shape and S.dtype == np.float32 and np.all(S.sum(-1) == 1)

    def counts(A):
        i = A.argmax(-1)
        return np.stack([np.bincount(4 * r[:-1] + r[1:], minlength=16) for r in i])

    np.testing.assert_array_equal(counts(S), counts(X))
    np.testing.assert_array_equal(S[:, 0], X[:, 0])
    np.testing.assert_array_equal(S[:, -1], X[:, -1])
    assert (S != X).any(axis=(1, 2)).mean() > 0.95                   # the sequences did change
    np.testing.assert_array_equal(S, dinucleotide_shuffle(X, seed=0))  # seeded
    assert not np.array_equal(S, dinucleotide_shuffle(X, seed=1))
    assert np.array_equal(dinucleotide_shuffle(X[:1, :2], seed=0), X[:1, :2])  # too short to shuffle


def test_dinucleotide_shuffle_refuses_n_and_bad_seed():
    from workshop_utils.sequences import dinucleotide_shuffle

    with pytest.raises(ValueError, match="^dinucleotide_shuffle: X must be"):
        dinucleotide_shuffle(one_hot_encode(["ACGNT"]))
    with pytest.raises(TypeError, match="^dinucleotide_shuffle: seed must be"):
        dinucleotide_shuffle(one_hot_encode(["ACGTT"]), seed="x")
