"""workshop_utils.nas (the package): one import line for the lessons, no framework loaded, one room per job."""
from __future__ import annotations

import subprocess
import sys


def test_the_package_names_come_from_the_module_that_owns_their_job():
    from workshop_utils import nas

    owner = {"search": "search", "SearchHistory": "search", "cnn_evaluator": "evaluate", "CNNEvaluator": "evaluate",
             "train_child": "evaluate", "process_pool": "evaluate", "load_reward_table": "rewards",
             "expected_best_of_random": "rewards", "save_top_arcs": "io", "load_top_arcs": "io",
             "GeneralController": "controller", "RandomController": "controller", "ModelSpace": "space",
             "plot_search_rewards": "plots"}
    for name, module in owner.items():
        assert getattr(nas, name).__module__ == f"workshop_utils.nas.{module}", name
    assert sorted(nas.__all__) == sorted(set(nas.__all__)) and all(hasattr(nas, n) for n in nas.__all__)


def test_importing_nas_loads_no_framework():
    code = ("import sys, workshop_utils.nas, workshop_utils.nas.dense, workshop_utils.nas.enas, "
            "workshop_utils.nas.evaluate, workshop_utils.nas.rewards, workshop_utils.nas.io; "
            "print(sorted(m for m in ('torch', 'tensorflow', 'keras') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
