"""workshop_utils.nas.evaluate: the CTCF child evaluator, and process pools that give a serial search's history."""
import numpy as np
import pytest

from workshop_utils import nas
from workshop_utils.nas import GeneralController, ModelSpace, Operation, SequentialModelBuilder, search
from workshop_utils.nas.evaluate import cnn_evaluator


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


def test_names_moved_out_of_search_still_import_from_there_with_a_warning():
    import importlib

    from workshop_utils.nas import evaluate, rewards

    old = importlib.import_module("workshop_utils.nas.search")
    for name, new in (("cnn_evaluator", evaluate), ("CNNEvaluator", evaluate), ("train_child", evaluate),
                      ("process_pool", evaluate), ("expected_best_of_random", rewards),
                      ("load_reward_table", rewards), ("REWARD_TABLE_FILE", rewards)):
        with pytest.warns(DeprecationWarning, match=f"nas.search.{name} has moved to workshop_utils.nas"):
            assert getattr(old, name) is getattr(new, name)
    with pytest.raises(AttributeError):
        old.no_such_name
