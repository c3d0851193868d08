"""workshop_utils.ctcf_data: CTCFData, the CTCF_200.h5 layout (read, atomic write), the site-detector ceiling."""
import h5py
import numpy as np
import pytest

from workshop_utils import ctcf_data
from workshop_utils.ctcf_data import CTCFData, read_ctcf_h5, write_ctcf_h5
from workshop_utils.simulator import make_ctcf_data

SMALL = {"train": 300, "valid": 100, "test": 100}


def test_h5_roundtrip_in_course_layout(tmp_path):
    data = make_ctcf_data(SMALL, seed=1)
    path = write_ctcf_h5(data, tmp_path / "CTCF_200.h5")
    with h5py.File(path) as f:
        assert f["x_train"].shape == (300, 4, 200)  # the course layout, (N, 4, L)
    back = read_ctcf_h5(path)
    np.testing.assert_array_equal(back.x_test, data.x_test)
    np.testing.assert_array_equal(back.y_valid, data.y_valid)
    np.testing.assert_array_equal(back.sites["train"]["start"], data.sites["train"]["start"])
    assert "train:" in back.summary()


def _write_raw(path, **overrides):
    rng = np.random.default_rng(0)
    arrays = {}
    for s in ("train", "valid", "test"):
        idx = rng.integers(0, 4, size=(20, 50))
        arrays[f"x_{s}"] = np.eye(4, dtype=np.uint8)[idx].transpose(0, 2, 1)
        arrays[f"y_{s}"] = rng.integers(0, 2, size=(20, 1)).astype(np.uint8)
    arrays.update(overrides)
    with h5py.File(path, "w") as f:
        for k, v in arrays.items():
            if v is not None:
                f[k] = v
    return path


def test_reader_accepts_real_course_file(tmp_path):
    data = read_ctcf_h5(_write_raw(tmp_path / "c.h5"))
    assert data.x_train.shape == (20, 50, 4) and data.y_train.shape == (20,) and data.sites is None


@pytest.mark.parametrize("override, message", [
    ({"y_test": None}, r"missing keys \['y_test'\]"),
    ({"x_valid": np.zeros((20, 50), np.uint8)}, r"bad.h5: x_valid must be a 3-D numeric array"),
    ({"x_train": np.ones((20, 4, 50), np.uint8)}, r"bad.h5: x_train must be one-hot"),
    ({"x_test": np.full((20, 4, 50), np.nan, np.float32)}, r"x_test must be finite \(no NaN or inf\)"),
    ({"y_train": np.zeros(19, np.uint8)}, r"y_train must be an array of 20 0/1 labels, got 19 labels"),
    ({"y_valid": np.full(20, 2, np.uint8)}, r"y_valid must be an array of 20 0/1 labels, got values \{2\}"),
    ({"y_valid": np.where(np.arange(20) % 2, 1, -1).astype(np.int8)}, r"y_valid must .*got values \{-1, 1\}"),
    ({"x_test": np.zeros((20, 4, 50), np.uint8)}, r"x_test must be one-hot DNA with at least one known base"),
    ({"start_train": np.zeros(5, np.int16), "strand_train": np.zeros(20, np.int8)},
     r"start_train must be an array of shape \(20,\)"),
])
def test_reader_rejects_bad_files(tmp_path, override, message):
    with pytest.raises(ValueError, match=message):
        read_ctcf_h5(_write_raw(tmp_path / "bad.h5", **override))


def test_reader_rejects_non_hdf5(tmp_path):
    p = tmp_path / "x.h5"
    p.write_bytes(b"not an hdf5 file")
    with pytest.raises(ValueError, match="read_ctcf_h5: path must be a readable HDF5 file"):
        read_ctcf_h5(p)
    with pytest.raises(FileNotFoundError, match="no such file"):
        read_ctcf_h5(tmp_path / "missing.h5")
    with pytest.raises(IsADirectoryError, match="is a directory, not a file"):
        read_ctcf_h5(tmp_path)


def test_interrupted_write_leaves_no_partial_file(tmp_path, monkeypatch):
    data = make_ctcf_data(SMALL, seed=1)
    target = tmp_path / "out.h5"

    def boom(*a, **k):
        raise KeyboardInterrupt("simulated interrupt")

    import h5py as _h5py
    monkeypatch.setattr(_h5py.File, "create_dataset", boom)
    with pytest.raises(KeyboardInterrupt):
        write_ctcf_h5(data, target)
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_write_rejects_bad_data(tmp_path):
    data = make_ctcf_data(SMALL, seed=1)
    data.y_train = data.y_train[:-1]
    with pytest.raises(ValueError, match="write_ctcf_h5: data: y_train must be an array of 300 0/1 labels"):
        write_ctcf_h5(data, tmp_path / "o.h5")
    assert not (tmp_path / "o.h5").exists()


def test_n_rows_round_trip_through_the_h5_writer(tmp_path):
    data = make_ctcf_data(SMALL, seed=1)
    data.x_train[3, 10:15] = 0.25  # five N
    back = read_ctcf_h5(write_ctcf_h5(data, tmp_path / "n.h5"))
    np.testing.assert_array_equal(back.x_train, data.x_train)
    with h5py.File(tmp_path / "n.h5") as f:  # strictly one-hot splits stay compact
        assert f["x_train"].dtype == np.float32 and f["x_valid"].dtype == np.uint8


def test_interrupted_write_keeps_the_previous_file(tmp_path, monkeypatch):
    old = make_ctcf_data(SMALL, seed=1)
    target = write_ctcf_h5(old, tmp_path / "out.h5")
    before = target.read_bytes()

    def boom(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(h5py.File, "create_dataset", boom)
    with pytest.raises(OSError):
        write_ctcf_h5(make_ctcf_data(SMALL, seed=2), target)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["out.h5"]


def test_site_detector_auroc_is_the_auroc_of_the_site_indicator():
    from sklearn.metrics import roc_auc_score

    data = make_ctcf_data(sizes={"train": 300, "valid": 200, "test": 400}, seed=3)
    for split in ("train", "valid", "test"):
        y = data.split(split)[1]
        has_site = (data.sites[split]["start"] >= 0).astype(float)
        a, b = has_site[y == 1].mean(), has_site[y == 0].mean()
        ceiling = ctcf_data.site_detector_auroc(data, split)
        assert abs(ceiling - roc_auc_score(y, has_site)) < 1e-12
        assert abs(ceiling - 0.5 * (1 + a - b)) < 1e-12
        assert 0.5 < ceiling < 1.0           # sites in most bound, few unbound sequences: above chance, below 1


def test_site_detector_auroc_refuses_what_has_no_ceiling():
    data = make_ctcf_data(sizes={"train": 100, "valid": 100, "test": 100}, seed=0)
    with pytest.raises(TypeError, match="site_detector_auroc: data must be a CTCFData"):
        ctcf_data.site_detector_auroc((data.x_test, data.y_test))
    with pytest.raises(ValueError, match="split must be one of"):
        ctcf_data.site_detector_auroc(data, "validation")
    real = CTCFData(data.x_train, data.y_train, data.x_valid, data.y_valid, data.x_test, data.y_test, sites=None)
    with pytest.raises(ValueError, match="real data have no planted sites"):
        ctcf_data.site_detector_auroc(real)
    one_class = CTCFData(data.x_train, data.y_train, data.x_valid, data.y_valid, data.x_test,
                         np.ones_like(data.y_test), sites=data.sites)
    with pytest.raises(ValueError, match="labels of both classes"):
        ctcf_data.site_detector_auroc(one_class)
