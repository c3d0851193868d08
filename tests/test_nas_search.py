"""workshop_utils.nas.search: the loop (budget, resume, batches, caching) and the history table."""
import json

import numpy as np
import pytest

from workshop_utils import nas
from workshop_utils.nas import (GeneralController, ModelSpace, Operation, RandomController, SearchHistory,
                                search)


def toy_reward(arc):
    return {"reward": 1.0 - 0.1 * sum(arc), "params": 10 * (1 + arc[0]), "val_auroc": 0.5}


def test_search_records_history_top_k_and_csv(tmp_path):
    space = nas.course_model_space()
    path = tmp_path / "hist.csv"
    hist = search(RandomController(space, seed=0), toy_reward, n_trials=12, progress=False, history_path=path)
    t = hist.table
    assert len(hist) == 12 and list(t.columns[:6]) == ["trial", "arc", "ops", "reward", "params", "seconds"]
    assert "val_auroc" in t.columns and t["ops"].str.contains("conv1d").all()
    top = hist.top_k(3)
    assert len(top) == 3 and top["reward"].is_monotonic_decreasing
    assert len({tuple(a) for a in top["arc"]}) == 3
    assert hist.best_reward == t["reward"].max() and hist.best_arc == list(top["arc"][0])
    assert np.all(np.diff(hist.running_best) >= 0)
    assert hist.layer_probs(2).shape == (12, 7)
    back = SearchHistory.read_csv(path)
    assert back.best_arc == hist.best_arc and len(back) == 12


def test_search_respects_the_time_budget_and_caches_repeated_arcs():
    import time

    space = ModelSpace.from_dict([[Operation("identity"), Operation("flatten")]])
    calls = []

    def slow(arc):
        calls.append(arc)
        time.sleep(0.05)
        return 0.1 * arc[0]

    hist = search(RandomController(space, seed=0), slow, n_trials=50, progress=False)
    assert len(calls) == 2  # two distinct arcs; every repeat is read from the cache
    assert len(hist) == 50 and hist.table["cached"].sum() == 48
    calls.clear()
    t0 = time.perf_counter()
    hist = search(RandomController(space, seed=0), slow, n_trials=50, time_budget=0.3, progress=False,
                  cache=False)
    assert 2 <= len(hist) < 50 and len(calls) == len(hist)
    assert time.perf_counter() - t0 < 0.3 + 0.1


def test_search_validates_inputs():
    space = nas.course_model_space()
    with pytest.raises(TypeError, match="controller"):
        search(object(), toy_reward)
    with pytest.raises(ValueError, match="n_trials"):
        search(RandomController(space), toy_reward, n_trials=0)
    with pytest.raises(ValueError, match="no 'reward' key"):
        search(RandomController(space), lambda arc: {"auc": 1.0}, n_trials=1, progress=False)


# --- nothing lost: atomic history files, interruption, resume (#13) ---------------------------


def _evaluate_until(stop_at, calls):
    """toy_reward that raises KeyboardInterrupt on its ``stop_at``-th call (a closed laptop)."""
    def evaluate(arc):
        calls.append(list(arc))
        if len(calls) == stop_at:
            raise KeyboardInterrupt
        return toy_reward(arc)
    return evaluate


@pytest.mark.parametrize("make", [lambda s: GeneralController(s, seed=3), lambda s: RandomController(s, seed=3)],
                         ids=["general", "random"])
def test_interrupted_search_keeps_its_trials_and_resume_draws_the_same_arcs(tmp_path, make, capsys):
    space = nas.course_model_space()
    full = search(make(space), toy_reward, n_trials=14, progress=False, history_path=tmp_path / "full.csv")

    path = tmp_path / "hist.csv"
    calls = []
    with pytest.raises(KeyboardInterrupt):
        search(make(space), _evaluate_until(6, calls), n_trials=14, progress=False, history_path=path, cache=False)
    assert "resume=True" in capsys.readouterr().err
    saved = SearchHistory.read_csv(path)
    assert len(saved) == 5 and [r["arc"] for r in saved.records] == calls[:5]

    resumed = search(make(space), toy_reward, n_trials=14, progress=False, history_path=path, resume=True)
    assert len(resumed) == 14 and [r["trial"] for r in resumed.records] == list(range(14))
    assert [r["arc"] for r in resumed.records] == [r["arc"] for r in full.records]
    assert resumed.rewards.tolist() == full.rewards.tolist()
    for p, q in zip(resumed.probs, full.probs):  # the controller is back in the state it had
        for a, b in zip(p, q):
            np.testing.assert_allclose(a, b, atol=1e-6)
    assert len(SearchHistory.read_csv(path)) == 14
    # resuming a finished search runs nothing more; a missing file starts afresh
    again = search(make(space), _evaluate_until(1, []), n_trials=14, progress=False, history_path=path, resume=True)
    assert len(again) == 14
    fresh = search(make(space), toy_reward, n_trials=3, progress=False, history_path=tmp_path / "new.csv",
                   resume=True)
    assert len(fresh) == 3


def test_resume_refuses_another_controller_and_a_damaged_history(tmp_path):
    space = nas.course_model_space()
    path = tmp_path / "hist.csv"
    search(GeneralController(space, seed=0), toy_reward, n_trials=4, progress=False, history_path=path)
    with pytest.raises(ValueError, match="resume=True: trial 0 of .*hist.csv.*same kind, settings and seed"):
        search(GeneralController(space, seed=1), toy_reward, n_trials=8, progress=False, history_path=path,
               resume=True)
    with pytest.raises(ValueError, match="history_path"):
        search(GeneralController(space), toy_reward, n_trials=8, progress=False, resume=True)
    text = path.read_text()
    for damaged in (text[: len(text) // 2].rsplit("[", 1)[0] + '"[0, 1', "", "a,b\n1,2\n",
                    text.replace("[", "{", 1)):
        path.write_text(damaged)
        with pytest.raises(ValueError, match=r"hist\.csv is not a readable search history"):
            SearchHistory.read_csv(path)
        with pytest.raises(ValueError, match=r"hist\.csv"):
            search(GeneralController(space, seed=0), toy_reward, n_trials=8, progress=False, history_path=path,
                   resume=True)
    with pytest.raises(IsADirectoryError, match="history_path"):
        search(RandomController(space), toy_reward, n_trials=2, progress=False, history_path=tmp_path)


def test_history_and_top_arcs_writers_interrupted_mid_write_keep_the_previous_file(tmp_path, monkeypatch):
    import pandas as pd

    space = nas.course_model_space()
    path = tmp_path / "hist.csv"
    hist = search(RandomController(space, seed=0), toy_reward, n_trials=5, progress=False, history_path=path)
    before = path.read_bytes()
    top_path = nas.save_top_arcs(hist, k=2, path=tmp_path / "top.json")
    top_before = top_path.read_bytes()
    real_to_csv = pd.DataFrame.to_csv

    def half_then_interrupt(self, buf, **kw):
        real_to_csv(self.head(2), buf, **kw)  # part of the table is on disk ...
        raise KeyboardInterrupt               # ... when the student hits stop

    monkeypatch.setattr(pd.DataFrame, "to_csv", half_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        search(RandomController(space, seed=1), toy_reward, n_trials=3, progress=False, history_path=path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hist.csv", "top.json"]  # no temporary file left

    import workshop_utils._atomic as atomic

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space"):
        nas.save_top_arcs(hist, k=1, path=top_path)
    with pytest.raises(OSError, match="No space"):
        hist.to_csv(path)
    monkeypatch.undo()
    assert top_path.read_bytes() == top_before and path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hist.csv", "top.json"]
    assert nas.load_top_arcs(top_path)["arcs"] == json.loads(top_before)["arcs"]


def test_search_refuses_a_bad_executor_and_batch():
    space = nas.course_model_space()
    with pytest.raises(TypeError, match="executor"):
        search(RandomController(space), toy_reward, n_trials=2, executor="pool", progress=False)
    with pytest.raises(ValueError, match="batch"):
        search(RandomController(space), toy_reward, n_trials=2, batch=0, progress=False)


def test_children_budget_counts_trained_networks_and_stops_a_converged_controller(tmp_path):
    space = ModelSpace.from_dict([[Operation("identity"), Operation("flatten")],
                                  [Operation("identity"), Operation("flatten"), Operation("dropout")]])
    calls = []

    def ev(arc):
        calls.append(tuple(arc))
        return 0.1 * arc[0] + 0.01 * arc[1]

    hist = search(RandomController(space, seed=0), ev, n_trials=4, progress=False, budget="children")
    t = hist.table
    assert len(calls) == 4 == int((~t["cached"]).sum()) and len(set(calls)) == 4
    assert len(hist) >= 4 and list(t["trial"]) == list(range(len(hist)))  # redraws were free but recorded
    fresh = t.loc[~t["cached"], "reward"].to_numpy()
    assert np.array_equal(hist.best_per_child, np.maximum.accumulate(fresh)) and len(hist.best_per_child) == 4
    # every arc of the space trained: the redraws stop at max_draws
    calls.clear()
    hist = search(RandomController(space, seed=0), ev, n_trials=6, progress=False, budget="children", max_draws=30)
    assert len(set(calls)) == len(calls) == 6 and len(hist) < 30
    # a budget the space cannot meet is refused before anything trains (it used to stop at max_draws, silently)
    calls.clear()
    with pytest.raises(ValueError, match=r"search: n_trials must be at most the 6 arcs of the space"):
        search(RandomController(space, seed=0), ev, n_trials=7, progress=False, budget="children", max_draws=30)
    assert calls == []

    class Stubborn:  # a controller sure of one arc
        def get_action(self):
            return [1, 2], [np.array([0.0, 1.0]), np.array([0.0, 0.0, 1.0])]

        def update(self, arc, reward):
            return None

    with pytest.warns(RuntimeWarning, match=r"search: only 1 of n_trials=3 children were trained in max_draws=30"):
        hist = search(Stubborn(), ev, n_trials=3, progress=False, budget="children", model_space=space)
    assert len(hist) == 30 and int((~hist.table["cached"]).sum()) == 1  # default max_draws = 10 * n_trials
    # resume counts the children of the saved trials, not its draws
    path = tmp_path / "h.csv"
    first = search(RandomController(space, seed=3), ev, n_trials=3, progress=False, budget="children",
                   history_path=path)
    again = search(RandomController(space, seed=3), ev, n_trials=5, progress=False, budget="children",
                   history_path=path, resume=True)
    assert [list(r["arc"]) for r in again.records[:len(first)]] == [r["arc"] for r in first.records]
    assert int((~again.table["cached"]).sum()) == 5


def test_children_budget_validates_its_arguments():
    space = nas.course_model_space()
    with pytest.raises(ValueError, match="budget"):
        search(RandomController(space), toy_reward, n_trials=2, budget="draws", progress=False)
    with pytest.raises(ValueError, match="cache"):
        search(RandomController(space), toy_reward, n_trials=2, budget="children", cache=False, progress=False)
    with pytest.raises(ValueError, match="max_draws"):
        search(RandomController(space), toy_reward, n_trials=2, max_draws=5, progress=False)
    with pytest.raises(ValueError, match="max_draws"):
        search(RandomController(space), toy_reward, n_trials=2, budget="children", max_draws=0, progress=False)
