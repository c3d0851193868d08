"""The shared argument checks (workshop_utils._checks): one message style, numpy types accepted."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from workshop_utils import _checks as C


def _msg(err) -> str:
    return str(err.value)


# --------------------------------------------------------------------------- integers
@pytest.mark.parametrize("value", [1, 7, np.int64(3), np.int32(5), np.uint8(2)])
def test_positive_int_accepts_python_and_numpy_integers(value):
    out = C.positive_int(value, "n", "f")
    assert out == int(value) and type(out) is int


@pytest.mark.parametrize("value, kind", [(0, ValueError), (-3, ValueError), (2.0, TypeError), (2.5, TypeError),
                                          (True, TypeError), (np.bool_(True), TypeError), ("3", TypeError),
                                          (None, TypeError)])
def test_positive_int_refuses(value, kind):
    with pytest.raises(kind) as err:
        C.positive_int(value, "n_epochs", "fit")
    assert _msg(err).startswith("fit: n_epochs must be a positive integer, got ")


def test_positive_int_minimum_and_float_hint():
    assert C.positive_int(60, "length", "f", minimum=60) == 60
    with pytest.raises(ValueError, match=r"f: length must be an integer >= 60, got 59"):
        C.positive_int(59, "length", "f", minimum=60)
    with pytest.raises(TypeError, match="write 2 without the decimal point"):
        C.positive_int(2.0, "n", "f")


def test_type_errors_are_also_value_errors():
    """Callers that caught ValueError for a float before keep working."""
    with pytest.raises(ValueError):
        C.positive_int(2.5, "n", "f")
    assert issubclass(C.ArgumentTypeError, TypeError) and issubclass(C.ArgumentTypeError, ValueError)


def test_non_negative_int():
    assert C.non_negative_int(np.int16(0), "seed", "f") == 0
    with pytest.raises(ValueError, match=r"f: seed must be a non-negative integer, got -1"):
        C.non_negative_int(-1, "seed", "f")
    with pytest.raises(TypeError, match="seed"):
        C.non_negative_int(1.5, "seed", "f")


# --------------------------------------------------------------------------- numbers
def test_number_accepts_numpy_floats_and_bounds():
    assert C.number(np.float32(0.5), "lr", "f", low=0) == 0.5
    assert C.number(3, "x", "f") == 3.0
    with pytest.raises(ValueError, match=r"f: lr must be a finite number > 0, got 0"):
        C.number(0, "lr", "f", low=0, low_open=True)
    with pytest.raises(ValueError, match=r"must be a finite number in \[0, 10\], got 11"):
        C.number(11, "x", "f", low=0, high=10)
    with pytest.raises(ValueError, match="x must be a finite number"):
        C.number(float("inf"), "x", "f")
    assert C.number(float("inf"), "x", "f", finite=False) == float("inf")


@pytest.mark.parametrize("value, kind", [(float("nan"), ValueError), (np.float64("nan"), ValueError),
                                          (True, TypeError), ("0.1", TypeError), ([0.1], TypeError)])
def test_number_refuses(value, kind):
    with pytest.raises(kind) as err:
        C.number(value, "threshold", "binary_metrics")
    assert _msg(err).startswith("binary_metrics: threshold must be")


def test_rate():
    assert C.rate(0, "p", "f") == 0.0 and C.rate(np.float16(1), "p", "f") == 1.0
    with pytest.raises(ValueError, match=r"f: dropout must be a finite number in \[0.0, 1.0\), got 1"):
        C.rate(1, "dropout", "f", high_open=True)
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match="dropout"):
            C.rate(bad, "dropout", "f")


def test_flag():
    assert C.flag(np.bool_(True), "shuffle", "f") is True
    for bad in (1, 0, "yes", None):
        with pytest.raises(TypeError, match=r"f: shuffle must be True or False, got"):
            C.flag(bad, "shuffle", "f")


def test_one_of():
    assert C.one_of("adam", "optimizer", "fit", ("adam", "sgd")) == "adam"
    with pytest.raises(ValueError, match=r"fit: optimizer must be one of 'adam', 'sgd', got 'Adam' \(did you mean 'adam'\?\)"):
        C.one_of("Adam", "optimizer", "fit", ("adam", "sgd"))
    with pytest.raises(ValueError, match="got True"):
        C.one_of(True, "k", "f", (1, 2))
    with pytest.raises(ValueError, match="got an array"):
        C.one_of(np.array([1, 2]), "k", "f", (1, 2))


# --------------------------------------------------------------------------- arrays
def test_finite_array_converts_and_checks_ndim():
    out = C.finite_array([[1, 2], [3, 4]], "X", "f", ndim=2)
    assert out.dtype == np.float32 and out.shape == (2, 2)
    assert C.finite_array(np.arange(3), "X", "f", dtype=None).dtype == np.arange(3).dtype
    with pytest.raises(ValueError, match=r"f: X must be a 2-D numeric array, got 1-D with shape \(3,\)"):
        C.finite_array(np.ones(3), "X", "f", ndim=2)
    with pytest.raises(ValueError, match="X must be a non-empty"):
        C.finite_array(np.ones((0, 3)), "X", "f")
    assert C.finite_array(np.ones((0, 3)), "X", "f", allow_empty=True).shape == (0, 3)


def test_finite_array_nan_message_counts_and_locates():
    X = np.ones((4, 3))
    X[2, 1] = np.nan
    X[3, 0] = np.inf
    with pytest.raises(ValueError) as err:
        C.finite_array(X, "X", "expression_fn")
    assert _msg(err).startswith("expression_fn: X must be finite (no NaN or inf), got 1 NaN and 1 inf")
    assert "first at index (2, 1)" in _msg(err)


@pytest.mark.parametrize("bad", ["ACGT", None, np.array(["a", "b"]), [[1, 2], [3]], np.array([{}, {}])])
def test_finite_array_refuses_non_numeric(bad):
    with pytest.raises(TypeError, match=r"^f: X must be a numeric array, got"):
        C.finite_array(bad, "X", "f")


def test_one_hot_accepts_n_rows_and_refuses_bad_rows():
    X = np.zeros((2, 3, 4), dtype=np.float64)
    X[:, :, 0] = 1
    X[1, 2] = 0.25
    out = C.one_hot(X, "X", "ism")
    assert out.dtype == np.float32 and out.shape == (2, 3, 4)
    with pytest.raises(ValueError, match=r"ism: X must be one-hot.*got sequence 1, position 2"):
        C.one_hot(X, "X", "ism", allow_n=False)
    with pytest.raises(ValueError, match=r"transpose it with X.transpose\(0, 2, 1\)"):
        C.one_hot(np.zeros((2, 4, 10)), "X", "ism")
    with pytest.raises(ValueError, match=r"X\[None\]"):
        C.one_hot(np.zeros((10, 4)), "X", "ism")
    nan = X.copy()
    nan[0, 1, 1] = np.nan
    with pytest.raises(ValueError, match=r"ism: X must be finite .* sequence 0, position 1"):
        C.one_hot(nan, "X", "ism")
    with pytest.raises(TypeError, match="one_hot_encode"):
        C.one_hot("ACGT", "X", "ism")
    with pytest.raises(TypeError, match="not numbers"):
        C.one_hot(np.full((1, 2, 4), "a"), "X", "ism")


def test_binary_labels():
    out = C.binary_labels(np.array([[0], [1], [1]]), "y", "fit", n=3)
    assert out.dtype == np.float32 and out.tolist() == [0, 1, 1]
    assert C.binary_labels(np.array([True, False]), "y", "fit").tolist() == [1, 0]
    with pytest.raises(ValueError, match=r"fit: y must be an array of 3 0/1 labels, got values \{-1, 1\}.*y > 0"):
        C.binary_labels([-1, 1, 1], "y", "fit", n=3)
    with pytest.raises(ValueError, match=r"got values \{0, 0.5, 1\}.*threshold"):
        C.binary_labels([0, 0.5, 1], "y", "fit")
    with pytest.raises(ValueError, match=r"y must be .* got 1 NaN label\(s\), the first at index 1"):
        C.binary_labels([0, np.nan, 1], "y", "fit")
    with pytest.raises(ValueError, match=r"got 2 labels \(one label per row of X\)"):
        C.binary_labels([0, 1], "y", "fit", n=3)
    with pytest.raises(ValueError, match=r"got shape \(2, 2\)"):
        C.binary_labels(np.zeros((2, 2)), "y", "fit")
    with pytest.raises(TypeError, match="y must be"):
        C.binary_labels(["a", "b"], "y", "fit")


# --------------------------------------------------------------------------- paths and fail
def test_file_path(tmp_path):
    f = tmp_path / "a.h5"
    f.write_bytes(b"x")
    assert C.file_path(str(f), "path", "read_ctcf_h5") == f
    with pytest.raises(IsADirectoryError, match=r"read_ctcf_h5: path must be a file, .* is a directory, not a file"):
        C.file_path(tmp_path, "path", "read_ctcf_h5")
    with pytest.raises(FileNotFoundError, match=r"read_ctcf_h5: path must be an existing file, .*no such file"):
        C.file_path(tmp_path / "b.h5", "path", "read_ctcf_h5")
    with pytest.raises(TypeError, match="path must be a path to a file"):
        C.file_path(3, "path", "read_ctcf_h5")


def test_fail_builds_the_same_message():
    err = C.fail("fn", "arg", "something", 3)
    assert isinstance(err, ValueError) and str(err) == "fn: arg must be something, got 3"
    err = C.fail("fn", "arg", "something", "a text as written", kind=TypeError, hint="do this")
    assert isinstance(err, TypeError) and str(err) == "fn: arg must be something, got a text as written (do this)"
    assert C.describe(np.int64(3)) == "3 (int64)"
    assert C.describe(np.zeros((2, 3), dtype=np.float32)) == "an array of shape (2, 3) and dtype float32"
    assert C.describe("x" * 200).endswith("...")


def test_rng():
    g = np.random.default_rng(3)
    assert C.rng(g, "rng", "f") is g
    assert C.rng(np.int64(3), "seed", "f").random() == np.random.default_rng(3).random()
    with pytest.raises(ValueError, match=r"f: seed must be a non-negative integer or a numpy.random.Generator, got -1"):
        C.rng(-1, "seed", "f")
    with pytest.raises(TypeError, match="seed"):
        C.rng(0.5, "seed", "f")


def _dna(n=3, L=5, seed=0):
    return np.eye(4, dtype=np.float32)[np.random.default_rng(seed).integers(0, 4, (n, L))]


def test_check_xy_dna_names_the_arguments_and_refuses_channels_first():
    X, y = C.check_xy(_dna(), [0, 1, True], "fit", x_name="train X", y_name="train y")
    assert X.dtype == np.float32 and X.flags.c_contiguous and y.tolist() == [0.0, 1.0, 1.0]
    soft = np.full((2, 5, 4), 0.3, np.float32)  # values need not be one-hot to train
    assert C.check_xy(soft, [0, 1], "fit")[0].shape == (2, 5, 4)
    with pytest.raises(ValueError, match=r"^fit: train X must be one-hot DNA of shape \(N, L, 4\).*transpose"):
        C.check_xy(_dna().transpose(0, 2, 1), [0, 1, 0], "fit", x_name="train X")
    with pytest.raises(ValueError, match=r"^evaluate: y must be an array of 3 0/1 labels, got 2 labels"):
        C.check_xy(_dna(), [0, 1], "evaluate")
    with pytest.raises(ValueError, match=r"^evaluate: X must be finite"):
        C.check_xy(np.where(_dna() == 1, np.nan, 0), [0, 1, 0], "evaluate")


def test_check_xy_one_hot_reads_either_layout_and_refuses_all_n():
    x = _dna()
    X, _ = C.check_xy(x.transpose(0, 2, 1).astype(np.uint8), [0, 1, 1], "read_ctcf_h5", x_kind="one_hot")
    np.testing.assert_array_equal(X, x)
    with pytest.raises(ValueError, match=r"f\.h5: x_test must be one-hot DNA with at least one known base"):
        C.check_xy(np.zeros((3, 4, 5)), [0, 1, 1], "read_ctcf_h5", x_name="f.h5: x_test", x_kind="one_hot")
    with pytest.raises(ValueError, match=r"must be one-hot DNA of shape \(N, 4, L\) or \(N, L, 4\)"):
        C.check_xy(np.zeros((3, 5, 5)), [0, 1, 1], "read_ctcf_h5", x_kind="one_hot")
    with pytest.raises(ValueError, match="one-hot: each position"):
        C.check_xy(x * 2, [0, 1, 1], "read_ctcf_h5", x_kind="one_hot")


def test_check_xy_table_with_class_codes():
    X, y = C.check_xy(np.ones((3, 2)), np.array([0, 2, 1]), "fit_dense", x_name="X_train", y_name="y_train",
                      x_kind="table", labels="codes", n_classes=3)
    assert X.shape == (3, 2) and y.dtype == np.int64
    with pytest.raises(ValueError, match=r"^fit_dense: y_train must be class codes in 0\.\.1, got codes from 0 to 2"):
        C.check_xy(np.ones((3, 2)), np.array([0, 2, 1]), "fit_dense", y_name="y_train", x_kind="table",
                   labels="codes", n_classes=2)
    with pytest.raises(TypeError, match=r"integer class codes.*astype\(int\)"):
        C.check_xy(np.ones((3, 2)), np.array([0.0, 1.0, 1.0]), "fit_dense", x_kind="table", labels="codes")
    with pytest.raises(ValueError, match=r"y must be 3 labels \(one per row\), got 2 labels"):
        C.check_xy(np.ones((3, 2)), np.array([0, 1]), "fit_dense", x_kind="table", labels="codes")
    with pytest.raises(ValueError, match="X must be a 2-D numeric array"):
        C.check_xy(np.ones((3, 2, 1)), np.array([0, 1, 1]), "fit_dense", x_kind="table", labels="codes")
    with pytest.raises(ValueError, match=r"check_xy: x_kind must be one of"):
        C.check_xy(np.ones((3, 2)), [0, 1, 1], "fit_dense", x_kind="tabular")
