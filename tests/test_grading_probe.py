"""The grader's private probe set (``grading/probe.py``): a fresh simulation, an inputs file without labels."""
from __future__ import annotations

import os

import numpy as np
import pytest

from workshop_utils.grading.probe import (INPUTS_FILE, PROBE_ENV, Probe, add_to_reference, load_inputs, make_probe,
                                          probe_attr_size, probe_size, probe_total, save_inputs)


def test_make_probe_is_a_fresh_simulation_of_the_course_data():
    a, b, c = make_probe(12345, n=300), make_probe(12345, n=300), make_probe(54321, n=300)
    assert a.x.shape == (300, 200, 4) and a.x.dtype == np.float32 and a.y.dtype == np.int64
    assert np.array_equal(a.x, b.x) and np.array_equal(a.y, b.y) and not np.array_equal(a.x, c.x)
    assert set(np.unique(a.y)) == {0, 1} and ((a.site_start >= -1) & (a.site_start <= 200 - 19)).all()
    assert (a.site_start[a.y == 1] >= 0).mean() > 0.6  # most positives carry a planted site
    assert "0 1" not in repr(a) and "300 sequences" in repr(a)  # repr never shows labels
    assert len(make_probe(7)) == probe_total() and probe_attr_size() < probe_size() < probe_total()
    for bad in (0, 2, -1, 1.5, True):
        with pytest.raises(ValueError, match="seed"):
            make_probe(bad, n=10)
    with pytest.raises(ValueError, match="n must"):
        make_probe(99, n=1)
    with pytest.raises(ValueError, match="Probe.y"):
        Probe(a.x[:3], np.array([1, 1, 1]), np.array([0, 0, 0]))


def test_the_probe_inputs_file_carries_no_labels(tmp_path):
    probe = make_probe(424242, n=500)
    path = save_inputs(probe, tmp_path / "probe")
    assert sorted(p.name for p in (tmp_path / "probe").iterdir()) == [INPUTS_FILE] == [path.name]
    codes = np.load(path, allow_pickle=False)
    assert codes.dtype == np.uint8 and codes.shape == (500, 200) and np.array_equal(codes, probe.x.argmax(-1))
    # nothing but the header and the sequences: one byte per base
    with open(path, "rb") as fh:
        major, _ = np.lib.format.read_magic(fh)
        read_header = np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0
        assert read_header(fh) == ((500, 200), False, np.dtype(np.uint8))
        assert os.path.getsize(path) - fh.tell() == 500 * 200
    assert np.array_equal(load_inputs(tmp_path / "probe"), probe.x)
    # the labels cannot be read off the sequences' order (rows are in simulation order, not by class)
    assert 0.3 < probe.y[:250].mean() < 0.7


def test_load_inputs_reads_the_grader_folder_and_refuses_anything_else(tmp_path, monkeypatch):
    monkeypatch.delenv(PROBE_ENV, raising=False)
    assert load_inputs() is None
    probe = make_probe(777, n=50)
    save_inputs(probe, tmp_path)
    monkeypatch.setenv(PROBE_ENV, str(tmp_path))
    x = load_inputs()
    assert x.dtype == np.float32 and np.array_equal(x, probe.x) and load_inputs() is x  # read once per kernel
    codes = probe.x.argmax(-1).astype(np.uint8)
    np.save(tmp_path / INPUTS_FILE, codes + 4, allow_pickle=False)
    with pytest.raises(ValueError, match="0-3"):
        load_inputs()
    np.save(tmp_path / INPUTS_FILE, probe.x, allow_pickle=False)  # one-hot floats are not the file's format
    with pytest.raises(ValueError, match="uint8"):
        load_inputs()
    (tmp_path / INPUTS_FILE).unlink()
    os.symlink("/dev/zero", tmp_path / INPUTS_FILE)
    with pytest.raises(ValueError, match="regular file"):
        load_inputs()
    with pytest.raises(ValueError, match="regular file"):
        load_inputs(tmp_path / "none")


def test_add_to_reference_adds_the_labels_without_changing_ref():
    probe = make_probe(31337, n=400)
    ref = {"quick": True, "y_test": np.array([0, 1])}
    out = add_to_reference(ref, probe)
    assert "probe" not in ref and out["y_test"] is ref["y_test"]
    assert np.array_equal(out["probe"]["y"], probe.y) and np.array_equal(out["probe"]["site_start"], probe.site_start)
    assert out["probe"]["n_total"] == 400 and out["probe"]["n"] == min(probe_size(), 400)
    assert out["probe"]["n_attr"] == min(probe_attr_size(), out["probe"]["n"])
    assert "x" not in out["probe"]  # the checks never need the sequences
    with pytest.raises(TypeError, match="probe"):
        add_to_reference(ref, {"y": probe.y})
