"""workshop_utils.nas.io: the top arcs file the search lesson writes for later lessons."""
import json

import pytest

from workshop_utils import nas
from workshop_utils.nas import GeneralController, search


def toy_reward(arc):
    return {"reward": 1.0 - 0.1 * sum(arc), "params": 10 * (1 + arc[0]), "val_auroc": 0.5}


def test_controller_search_and_top_arcs_file(tmp_path):
    space = nas.course_model_space()
    hist = search(GeneralController(space, seed=0), toy_reward, n_trials=5, progress=False)
    path = nas.save_top_arcs(hist, k=2, path=tmp_path / "top.json")
    data = nas.load_top_arcs(path)
    assert data["space"] == "course" and len(data["arcs"]) == 2 and len(data["ops"][0]) == 4
    assert data["val_auroc"] == [0.5, 0.5]
    assert nas.load_top_arcs(tmp_path / "missing.json") is None
    assert json.loads(path.read_text())["arcs"][0] == hist.top_k(1)["arc"][0]


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


def test_save_top_arcs_validates(tmp_path):
    hist = search(GeneralController(nas.course_model_space(), seed=0), toy_reward, n_trials=2, progress=False)
    with pytest.raises(TypeError, match="save_top_arcs: history must be a SearchHistory"):
        nas.save_top_arcs([], path=tmp_path / "t.json")
    with pytest.raises(ValueError, match="save_top_arcs: k must be"):
        nas.save_top_arcs(hist, k=0, path=tmp_path / "t.json")
    with pytest.raises(IsADirectoryError, match="save_top_arcs: path must be a file"):
        nas.save_top_arcs(hist, path=tmp_path)
    from workshop_utils.nas import io

    assert io.save_top_arcs is nas.save_top_arcs and io.TOP_ARCS_FILE == "nas_top_arcs.json"
