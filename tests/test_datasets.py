"""workshop_utils.datasets: load_ctcf's sources and its cache (keyed by content), and the re-exported names."""
import h5py
import numpy as np
import pytest
from test_ctcf_data import _write_raw

from workshop_utils import config as wu_config
from workshop_utils import ctcf_data, datasets, peaks, simulator
from workshop_utils.datasets import course_data_files, load_ctcf, read_ctcf_h5, simulated_cache_path

SMALL = {"train": 300, "valid": 100, "test": 100}


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
    monkeypatch.setattr(simulator, "default_sizes", lambda: dict(SMALL))
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
    monkeypatch.setattr(simulator, "SIMULATOR_VERSION", simulator.SIMULATOR_VERSION + 1)
    assert simulated_cache_path(sizes=SMALL) not in (old_path, new_path)
    # the same values give the same name: the key is the content, not the object
    assert datasets.preset_key(dataclasses.replace(datasets.PRESETS["hard"])) == \
        datasets.preset_key(datasets.PRESETS["hard"])


def test_the_split_modules_names_stay_importable_from_datasets():
    """Notebooks and homework read these from workshop_utils.datasets (wu.datasets.simulate_ctcf ...)."""
    for mod in (ctcf_data, simulator, peaks):
        for name in mod.__all__:
            assert getattr(datasets, name) is getattr(mod, name), name
