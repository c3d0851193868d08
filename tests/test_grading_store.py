"""The grading store (``grading/store.py``): round trips, interrupted writes, tampered or foreign stores refused."""
from __future__ import annotations

import json

import numpy as np
import pytest

from _grading_kit import CLASS
from workshop_utils.grading.regrade import regrade
from workshop_utils.grading.store import MANIFEST, StoreError, open_store


@pytest.fixture
def graded(graded_copy):
    """The small graded class (``tests/_homework_kit.py``), with a store and CSV of this test's own."""
    return graded_copy


def test_a_tampered_store_is_refused(graded):
    st = open_store(graded["store"])
    entry = st.manifest["submissions"]["ada"]
    path = graded["store"] / entry["file"]
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(StoreError, match="checksum"):
        regrade(graded["store"], graded["tmp"] / "x.csv", hidden=[graded["hidden"]], verbose=False)
    assert not (graded["tmp"] / "x.csv").exists()


def test_a_tampered_probe_is_refused(graded):
    (graded["store"] / "probe.npz").write_bytes(b"not the probe")
    with pytest.raises(StoreError, match="checksum"):
        open_store(graded["store"]).probe()


def test_a_store_of_another_day_or_version_is_refused(graded):
    m = json.loads((graded["store"] / MANIFEST).read_text())
    with pytest.raises(StoreError, match="day 1, not day 2"):
        open_store(graded["store"], day=2)
    m["package_version"] = "0.0.1"
    (graded["store"] / MANIFEST).write_text(json.dumps(m))
    with pytest.raises(StoreError, match="0.0.1"):
        regrade(graded["store"], graded["tmp"] / "x.csv", verbose=False)
    res = regrade(graded["store"], graded["tmp"] / "y.csv", hidden=[graded["hidden"]], accept_version=True,
                  verbose=False)
    assert len(res.rows) == len(CLASS)
    m["quick"] = not m["quick"]
    (graded["store"] / MANIFEST).write_text(json.dumps(m))
    with pytest.raises(StoreError, match="mode"):
        regrade(graded["store"], graded["tmp"] / "z.csv", accept_version=True, verbose=False)


def test_not_a_store_and_a_missing_student(graded, tmp_path_factory):
    empty = tmp_path_factory.mktemp("nostore")
    with pytest.raises(StoreError, match="not a grading store"):
        open_store(empty)
    (empty / "notes.txt").write_text("mine")
    with pytest.raises(StoreError, match="other files"):
        open_store(empty, day=1, quick=True, create=True)
    st = open_store(graded["store"])
    with pytest.raises(StoreError, match="no stored submission of 'zed'"):
        st.get("zed")
    (graded["store"] / st.manifest["submissions"]["bob"]["file"]).unlink()
    with pytest.raises(StoreError, match="missing"):
        st.get("bob")
    assert any("missing" in b for b in st.verify())


def test_the_store_round_trips_a_submission_and_the_probe(graded, tmp_path):
    st = open_store(graded["store"])
    rec = st.get("ada", tmp_path / "ada")
    assert rec["row"]["student"] == "ada" and rec["code"][0] == "print('ada')"
    assert (tmp_path / "ada" / "day1_p1" / "values.json").is_file()
    probe = st.probe()
    np.testing.assert_array_equal(probe.y, graded["ref"]["probe"]["y"])
    with pytest.raises(StoreError, match="already holds a probe"):
        st.save_probe(probe)


def test_an_interrupted_put_leaves_the_store_readable(graded, monkeypatch):
    from workshop_utils.grading import store as store_mod

    st = open_store(graded["store"])
    before = (graded["store"] / MANIFEST).read_bytes()

    def boom(*args, **kw):
        raise KeyboardInterrupt

    monkeypatch.setattr(store_mod, "_tar_add", boom)  # interrupted while the tar is being written
    with pytest.raises(KeyboardInterrupt):
        st.put("eve", None, {"status": "ok"})
    assert (graded["store"] / MANIFEST).read_bytes() == before
    assert not open_store(graded["store"]).verify() and not open_store(graded["store"]).has("eve")
    assert not [p for p in (graded["store"] / "subs").iterdir() if p.name.startswith(".")]  # no temp file left


