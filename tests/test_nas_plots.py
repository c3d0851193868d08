"""workshop_utils.nas.plots: controller probabilities and reward curves of search histories."""
import pytest

from workshop_utils import nas
from workshop_utils.nas import GeneralController, RandomController, SearchHistory, search


def toy_reward(arc):
    return {"reward": 1.0 - 0.1 * sum(arc), "params": 10 * (1 + arc[0]), "val_auroc": 0.5}


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
