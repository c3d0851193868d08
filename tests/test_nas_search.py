"""workshop_utils.nas.search: the loop, the history table, the CTCF evaluator."""
import json

import numpy as np
import pytest

from workshop_utils import nas
from workshop_utils.nas import (GeneralController, ModelSpace, Operation, RandomController, SearchHistory,
                                SequentialModelBuilder, cnn_evaluator, search)


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


def test_controller_search_and_top_arcs_file(tmp_path):
    space = nas.course_model_space()
    hist = search(GeneralController(space, seed=0), toy_reward, n_trials=5, progress=False)
    path = nas.save_top_arcs(hist, k=2, path=tmp_path / "top.json")
    data = nas.load_top_arcs(path)
    assert data["space"] == "course" and len(data["arcs"]) == 2 and len(data["ops"][0]) == 4
    assert data["val_auroc"] == [0.5, 0.5]
    assert nas.load_top_arcs(tmp_path / "missing.json") is None
    assert json.loads(path.read_text())["arcs"][0] == hist.top_k(1)["arc"][0]


@pytest.mark.parametrize("backend", ["keras", "torch"])
def test_cnn_evaluator_trains_a_child_and_scores_it(backend):
    rng = np.random.default_rng(0)
    X = rng.random((120, 20, 4)).astype(np.float32)
    y = (X[:, 8:12, 0].sum(1) > X[:, 8:12, 0].sum(1).mean()).astype(np.float32)
    space = ModelSpace.from_dict([[Operation("conv1d", filters=4, kernel_size=3)], [Operation("flatten")]])
    builder = SequentialModelBuilder(Operation("input", shape=(20, 4)), Operation("dense", units=1,
                                     activation="sigmoid"), space, {"loss": "binary_crossentropy",
                                                                    "optimizer": "adam", "learning_rate": 0.01},
                                     backend=backend)
    if backend == "torch":
        pytest.importorskip("workshop_utils.training")
    ev = cnn_evaluator(builder, (X[:80], y[:80], X[80:], y[80:]), epochs=3, patience=1, batch_size=32)
    out = ev([0, 0])
    assert set(out) >= {"reward", "val_auroc", "params", "epochs"}
    assert 0 <= out["val_auroc"] <= 1 and out["reward"] == out["val_auroc"] and out["params"] == 4 * 3 * 4 + 4 + 81
    acc = cnn_evaluator(builder, (X[:80], y[:80], X[80:], y[80:]), epochs=1,
                        reward=lambda yt, ys: float(np.mean((ys > 0.5) == yt)))([0, 0])
    assert 0 <= acc["reward"] <= 1 and acc["reward"] != acc["val_auroc"] or acc["reward"] == 0.5


def test_concat_and_plots():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    space = nas.course_model_space()
    h1 = search(GeneralController(space, seed=0), toy_reward, n_trials=4, progress=False)
    h2 = search(RandomController(space, seed=0), toy_reward, n_trials=3, progress=False)
    both = SearchHistory.concat([h1, h2])
    assert len(both) == 7 and list(both.table["trial"]) == list(range(7))
    assert both.best_reward == max(h1.best_reward, h2.best_reward)
    axes = nas.plot_layer_probs(h1)
    assert len(axes) == 4 and len(axes[2].lines) == 7
    ax = nas.plot_search_rewards(h1, label="controller")
    assert len(ax.lines) == 1
    ax = nas.plot_search_comparison({"controller": [h1, h1], "random": h2})
    assert len(ax.lines) == 2
    with pytest.raises(ValueError, match="layers"):
        nas.plot_layer_probs(h1, layers=[9])
    with pytest.raises(TypeError, match="runs"):
        nas.plot_search_comparison({})
    plt.close("all")


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


def test_damaged_top_arcs_file_names_the_file(tmp_path):
    path = tmp_path / "top.json"
    for text in ('{"space": "course", "arcs": [[0, 1', "[]", '{"space": "course"}',
                 '{"space": "c", "arcs": [[0, "x"]], "val_auroc": [0.5], "ops": [[]]}'):
        path.write_text(text)
        with pytest.raises(ValueError, match=r"top\.json is not a readable top-arcs file"):
            nas.load_top_arcs(path)
    with pytest.raises(IsADirectoryError, match="path"):
        nas.load_top_arcs(tmp_path)
    assert nas.load_top_arcs(tmp_path / "missing.json") is None


def _toy_cnn_evaluator(backend="torch"):
    rng = np.random.default_rng(1)
    X = np.eye(4, dtype=np.float32)[rng.integers(0, 4, (160, 30))]
    y = (X[:, 10:14, 0].sum(1) >= 1).astype(np.float32)
    space = ModelSpace.from_dict([[Operation("conv1d", filters=f, kernel_size=3) for f in (2, 4)],
                                  [Operation("maxpool1d", pool_size=p, strides=p) for p in (2, 5)],
                                  [Operation("flatten"), Operation("globalmaxpool1d")]])
    builder = SequentialModelBuilder(Operation("input", shape=(30, 4)), Operation("dense", units=1,
                                     activation="sigmoid"), space, {"loss": "binary_crossentropy",
                                                                    "optimizer": "adam", "learning_rate": 0.01},
                                     backend=backend)
    return space, cnn_evaluator(builder, (X[:100], y[:100], X[100:], y[100:]), epochs=2, batch_size=32)


def test_a_batch_of_children_in_parallel_gives_the_history_of_a_serial_search():
    """The same seed and batch give the same arcs and rewards with or without workers."""
    import pickle

    space, ev = _toy_cnn_evaluator()
    pickle.loads(pickle.dumps(ev))  # a process pool or Dask can ship it
    serial = search(GeneralController(space, seed=0, batch_size=3), ev, n_trials=7, progress=False)
    with nas.process_pool(2) as pool:
        spawned = search(GeneralController(space, seed=0, batch_size=3), ev, n_trials=7, progress=False,
                         executor=pool)
    for other in (spawned,):
        assert [r["arc"] for r in other.records] == [r["arc"] for r in serial.records]
        assert np.array_equal(other.rewards, serial.rewards)
        assert [r["cached"] for r in other.records] == [r["cached"] for r in serial.records]
    # batch=3 with the controller's own batch_size=3 draws exactly what update-by-update sampling draws
    one_by_one = search(GeneralController(space, seed=0, batch_size=3), ev, n_trials=7, progress=False, batch=1)
    assert [r["arc"] for r in one_by_one.records] == [r["arc"] for r in serial.records]


def test_search_refuses_a_bad_executor_and_batch():
    space = nas.course_model_space()
    with pytest.raises(TypeError, match="executor"):
        search(RandomController(space), toy_reward, n_trials=2, executor="pool", progress=False)
    with pytest.raises(ValueError, match="batch"):
        search(RandomController(space), toy_reward, n_trials=2, batch=0, progress=False)


def test_expected_best_of_random_matches_simulation_and_checks_inputs():
    rewards = np.array([0.5, 0.6, 0.9, 0.55, 0.7])
    assert nas.expected_best_of_random(rewards, 1) == pytest.approx(rewards.mean())
    curve = nas.expected_best_of_random(rewards, [1, 2, 8, 200])
    assert curve.shape == (4,) and np.all(np.diff(curve) > 0) and curve[-1] == pytest.approx(0.9, abs=1e-6)
    rng = np.random.default_rng(0)
    draws = rng.choice(rewards, size=(200_000, 3)).max(1)
    assert nas.expected_best_of_random(rewards, 3) == pytest.approx(draws.mean(), abs=2e-3)
    with pytest.raises(ValueError, match="expected_best_of_random: n_trials must be"):
        nas.expected_best_of_random(rewards, 0)
    with pytest.raises(ValueError, match="expected_best_of_random: rewards must be finite"):
        nas.expected_best_of_random([0.5, np.nan], 2)
    with pytest.raises(TypeError, match="expected_best_of_random: n_trials must be"):
        nas.expected_best_of_random(rewards, "3")


def test_expected_best_of_distinct_draws_is_exact():
    import itertools

    rewards = np.array([0.5, 0.6, 0.9, 0.55, 0.7, 0.52])
    for n in (1, 2, 3, 6):
        exact = np.mean([max(c) for c in itertools.combinations(rewards, n)])  # every subset is equally likely
        assert nas.expected_best_of_random(rewards, n, replace=False) == pytest.approx(exact, rel=1e-12)
    curve = nas.expected_best_of_random(rewards, [1, 2, 3], replace=False)
    assert np.all(curve > nas.expected_best_of_random(rewards, [1, 2, 3])[:3] - 1e-12)  # distinct >= with replacement
    with pytest.raises(ValueError, match="at most 6"):
        nas.expected_best_of_random(rewards, 7, replace=False)


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


def test_load_reward_table_reads_the_shipped_rewards_and_refuses_damaged_files(tmp_path):
    table = nas.load_reward_table()
    space = nas.course_model_space()
    assert len(table) == space.size == 378 and all(len(a) == 4 for a in table)
    best = max(table, key=table.get)
    assert table[best] > 0.95 and space.describe(best).endswith("globalmaxpool1d")
    # the second convolution matters on the grammar preset: no arc without it scores above 0.75
    assert max(r for a, r in table.items() if a[2] == 6) < 0.75
    from workshop_utils.nas.search import REWARD_TABLE_FILE

    text = REWARD_TABLE_FILE.read_text()
    bad = tmp_path / "t.json"
    for damaged, match in ((text[: len(text) // 2], "not a complete reward table"),
                           (text.replace('"[0, 0, 0, 0]": ', '"[0, 0, 0, 9]": '), "token"),
                           (text.replace('"[0, 0, 0, 0]": ', '"[0, 0, 0]": '), "tokens|layers"),
                           (text.replace('"[0, 0, 0, 0]": 0.', '"[0, 0, 0, 0]": 1.'), r"in \[0, 1\]"),
                           (text.replace('"[0, 0, 0, 0]": 0.', '"[0, 0, 0, 0]": NaN, "x": 0.'), "not a complete")):
        bad.write_text(damaged)
        with pytest.raises(ValueError, match=match):
            nas.load_reward_table(bad)
    with pytest.raises(FileNotFoundError):
        nas.load_reward_table(tmp_path / "missing.json")
    with pytest.raises(TypeError, match="path"):
        nas.load_reward_table(3)
