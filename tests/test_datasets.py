import h5py
import numpy as np
import pytest

from workshop_utils import config as wu_config
from workshop_utils import datasets
from workshop_utils.datasets import (CTCFData, course_data_files, load_ctcf, make_ctcf_data, read_ctcf_h5,
                                     simulate_ctcf, simulated_cache_path, write_ctcf_h5)
from workshop_utils.motifs import best_hits, ctcf_pfm, pwm_log_odds

SMALL = {"train": 300, "valid": 100, "test": 100}


def test_simulator_shapes_and_determinism():
    X, y, sites = simulate_ctcf(500, seed=3)
    assert X.shape == (500, 200, 4) and X.dtype == np.float32 and y.shape == (500,)
    np.testing.assert_array_equal(X.sum(-1), 1)
    X2, y2, _ = simulate_ctcf(500, seed=3)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    assert not np.array_equal(X, simulate_ctcf(500, seed=4)[0])


def test_planted_sites_are_real_ctcf_instances():
    X, y, sites = simulate_ctcf(2000, seed=0)
    has = sites["start"] >= 0
    # most bound sequences carry a site, a few unbound ones do too
    assert 0.7 < has[y == 1].mean() < 0.95
    assert 0.0 < has[y == 0].mean() < 0.2
    # bound sites sit near the centre, like peak summits
    assert abs(np.median(sites["start"][has & (y == 1)]) - 90.5) < 8
    # the planted window scores as a CTCF site on the stored strand
    pwm = pwm_log_odds(ctcf_pfm())
    idx = np.nonzero(has & (y == 1))[0][:50]
    for i in idx:
        s, strand = sites["start"][i], sites["strand"][i]
        window = X[i, s:s + 19]
        if strand == -1:
            window = window[::-1, ::-1]
        assert (pwm * window).sum() > 0
    hits = best_hits(X[idx], pwm)
    # the planted (strong) site is usually the best PWM hit; flank sites sometimes win
    assert np.mean(np.abs(hits["start"] - sites["start"][idx]) <= 2) > 0.6


def test_default_presets_are_unchanged_by_the_grammar_preset():
    # md5 of simulate_ctcf(300, preset, seed=5) before the 'grammar' preset was added:
    # the Day-1 lessons and homework thresholds rest on these data
    import hashlib

    for preset, digest in (("default", "779aadfb52b927d462f417c51790eff7"),
                           ("hard", "6ae7a51e494e89badc2c37784423d506")):
        X, y, s = simulate_ctcf(300, preset=preset, seed=5)
        assert hashlib.md5(X.tobytes() + y.tobytes() + s["start"].tobytes()).hexdigest() == digest


def test_grammar_preset_labels_depend_on_spacing_and_orientation():
    X, y, sites = simulate_ctcf(3000, preset="grammar", seed=1)
    assert X.shape == (3000, 200, 4) and 0.45 < y.mean() < 0.55
    grammar = ((sites["spacing"] >= 25) & (sites["spacing"] <= 27)
               & (sites["strand"] == 1) & (sites["strand2"] == -1))
    # the binding grammar explains the label up to the preset's 2% label noise each way
    assert grammar[y == 1].mean() > 0.95 and grammar[y == 0].mean() < 0.05
    # wrong spacings lie on both sides of the preferred one, at least 3 nt away
    wrong_spacing = sites["spacing"][(y == 0) & ~grammar & ((sites["spacing"] < 25) | (sites["spacing"] > 27))]
    assert set(np.unique(wrong_spacing)) == set(range(19, 22)) | set(range(31, 37))
    # every sequence of both classes carries two strong sites on the recorded strands
    pwm = pwm_log_odds(ctcf_pfm())
    for i in range(0, 3000, 150):
        for start, strand in ((sites["start"][i], sites["strand"][i]),
                              (sites["start"][i] + sites["spacing"][i], sites["strand2"][i])):
            window = X[i, start:start + 19]
            if strand == -1:
                window = window[::-1, ::-1]
            assert (pwm * window).sum() >= datasets.PRESETS["grammar"].min_site_score
    # unbound sequences are wrong in spacing, orientation or both, in about equal parts
    wrong = y == 0
    right_spacing = (sites["spacing"] >= 25) & (sites["spacing"] <= 27)
    convergent = (sites["strand"] == 1) & (sites["strand2"] == -1)
    assert 0.2 < (right_spacing & ~convergent)[wrong].mean() < 0.45
    assert 0.2 < (~right_spacing & convergent)[wrong].mean() < 0.45
    # the same motif content in both classes: the number of strong CTCF hits does not differ
    from workshop_utils.motifs import scan

    n_hits = (scan(X[:1000], pwm) >= 6.0).sum((1, 2))
    assert abs(n_hits[y[:1000] == 1].mean() - n_hits[y[:1000] == 0].mean()) < 0.15


def test_grammar_preset_rejects_spacings_that_do_not_fit():
    bad = datasets.SimulationPreset(pair_spacing=(10, 12))
    with pytest.raises(ValueError, match="preset.pair_spacing and preset.other_spacing must be"):
        simulate_ctcf(10, preset=bad)
    with pytest.raises(ValueError, match="preset.pair_spacing and preset.other_spacing must be"):
        simulate_ctcf(10, length=60, preset=datasets.SimulationPreset(pair_spacing=(40, 45)))
    with pytest.raises(ValueError, match="preset.other_spacing must leave a spacing"):
        simulate_ctcf(10, preset=datasets.SimulationPreset(pair_spacing=(25, 27), other_spacing=(23, 29)))


def test_background_is_fitted_on_human_dna():
    bg = datasets.load_background()
    assert bg["order"] == 4 and bg["transitions"].shape == (256, 4)
    np.testing.assert_allclose(bg["transitions"].sum(1), 1, atol=1e-4)
    seqs = datasets.sample_background(2000, 200, rng=0)
    gc = np.isin(seqs, (1, 2)).mean()
    assert abs(gc - (bg["base_freq"][1] + bg["base_freq"][2])) < 0.02
    # CpG depletion, the signature of mammalian DNA that a uniform background lacks
    cg = ((seqs[:, :-1] == 1) & (seqs[:, 1:] == 2)).mean()
    assert cg < 0.5 * (gc / 2) ** 2


def test_simulator_bad_arguments():
    with pytest.raises(ValueError, match="preset must be one of"):
        simulate_ctcf(10, preset="easy")
    with pytest.raises(ValueError, match="length must be"):
        simulate_ctcf(10, length=20)
    with pytest.raises(ValueError, match="n must be"):
        simulate_ctcf(0)


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


def test_load_ctcf_caches_and_rebuilds_corrupt_cache(tmp_path):
    first = load_ctcf(sizes=SMALL, seed=2)
    cached = list(wu_config.cache_dir().glob("ctcf_sim_*.h5"))
    assert len(cached) == 1
    again = load_ctcf(sizes=SMALL, seed=2)
    np.testing.assert_array_equal(first.x_train, again.x_train)
    # truncate the cache: it must be rebuilt, with a warning, not crash
    blob = cached[0].read_bytes()
    cached[0].write_bytes(blob[: len(blob) // 3])
    with pytest.warns(UserWarning, match="rebuilding"):
        rebuilt = load_ctcf(sizes=SMALL, seed=2)
    np.testing.assert_array_equal(first.x_train, rebuilt.x_train)
    read_ctcf_h5(cached[0])  # healthy again


def test_load_ctcf_prefers_users_file(tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir(exist_ok=True)
    _write_raw(data_dir / "CTCF_200.h5")
    data = load_ctcf()
    assert data.x_train.shape == (20, 50, 4) and data.sites is None
    assert str(data_dir / "CTCF_200.h5") in data.source


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


@pytest.mark.parametrize("damage", ["truncate", "garbage", "wrong_shape", "group", "zeros", "empty"])
def test_every_kind_of_corrupt_cache_is_rebuilt(damage):
    first = load_ctcf(sizes=SMALL, seed=5)
    cached = simulated_cache_path(seed=5, sizes=SMALL)
    assert cached.is_file()
    if damage == "truncate":
        cached.write_bytes(cached.read_bytes()[:500])
    elif damage == "garbage":
        cached.write_bytes(b"\x89HDF\r\n" + b"x" * 100)
    elif damage == "empty":
        cached.write_bytes(b"")
    else:
        with h5py.File(cached, "a") as f:
            del f["x_valid"]
            if damage == "wrong_shape":
                f["x_valid"] = np.zeros((3, 7), np.uint8)
            elif damage == "group":
                f.create_group("x_valid")
            else:
                f["x_valid"] = np.zeros((100, 4, 200), np.uint8)
    with pytest.warns(UserWarning, match="rebuilding"):
        again = load_ctcf(sizes=SMALL, seed=5)
    np.testing.assert_array_equal(first.x_valid, again.x_valid)
    read_ctcf_h5(cached)  # healthy again


def test_cache_path_is_the_one_load_ctcf_uses(monkeypatch):
    assert course_data_files() == []
    load_ctcf(sizes=SMALL, seed=0)
    assert not course_data_files()  # the course data are the default sizes, not SMALL
    monkeypatch.setattr(datasets, "default_sizes", lambda: dict(SMALL))
    load_ctcf()
    assert course_data_files() == [simulated_cache_path()]
    key = datasets.preset_key(datasets.PRESETS["default"])
    assert simulated_cache_path().name == \
        f"ctcf_sim_default_s0_{SMALL['train']}_{SMALL['valid']}_{SMALL['test']}_{key}.h5"


def test_the_cache_is_keyed_by_the_presets_values_and_the_simulator_version(monkeypatch):
    """Editing a preset (or the simulator) and loading again rebuilds: the old file is never read back."""
    import dataclasses

    first = load_ctcf(sizes=SMALL, seed=0)
    old_path = simulated_cache_path(sizes=SMALL)
    assert old_path.is_file()
    monkeypatch.setitem(datasets.PRESETS, "default",
                        dataclasses.replace(datasets.PRESETS["default"], p_bound_without_site=0.6))
    new_path = simulated_cache_path(sizes=SMALL)
    assert new_path != old_path and not new_path.exists()
    edited = load_ctcf(sizes=SMALL, seed=0)
    assert new_path.is_file() and not np.array_equal(edited.x_train, first.x_train)
    monkeypatch.setattr(datasets, "SIMULATOR_VERSION", datasets.SIMULATOR_VERSION + 1)
    assert simulated_cache_path(sizes=SMALL) not in (old_path, new_path)
    # the same values give the same name: the key is the content, not the object
    assert datasets.preset_key(dataclasses.replace(datasets.PRESETS["hard"])) == \
        datasets.preset_key(datasets.PRESETS["hard"])


def test_site_detector_auroc_is_the_auroc_of_the_site_indicator():
    from sklearn.metrics import roc_auc_score

    data = make_ctcf_data(sizes={"train": 300, "valid": 200, "test": 400}, seed=3)
    for split in ("train", "valid", "test"):
        y = data.split(split)[1]
        has_site = (data.sites[split]["start"] >= 0).astype(float)
        a, b = has_site[y == 1].mean(), has_site[y == 0].mean()
        ceiling = datasets.site_detector_auroc(data, split)
        assert abs(ceiling - roc_auc_score(y, has_site)) < 1e-12
        assert abs(ceiling - 0.5 * (1 + a - b)) < 1e-12
        assert 0.5 < ceiling < 1.0           # sites in most bound, few unbound sequences: above chance, below 1


def test_site_detector_auroc_refuses_what_has_no_ceiling():
    data = make_ctcf_data(sizes={"train": 100, "valid": 100, "test": 100}, seed=0)
    with pytest.raises(TypeError, match="site_detector_auroc: data must be a CTCFData"):
        datasets.site_detector_auroc((data.x_test, data.y_test))
    with pytest.raises(ValueError, match="split must be one of"):
        datasets.site_detector_auroc(data, "validation")
    real = CTCFData(data.x_train, data.y_train, data.x_valid, data.y_valid, data.x_test, data.y_test, sites=None)
    with pytest.raises(ValueError, match="real data have no planted sites"):
        datasets.site_detector_auroc(real)
    one_class = CTCFData(data.x_train, data.y_train, data.x_valid, data.y_valid, data.x_test,
                         np.ones_like(data.y_test), sites=data.sites)
    with pytest.raises(ValueError, match="labels of both classes"):
        datasets.site_detector_auroc(one_class)
