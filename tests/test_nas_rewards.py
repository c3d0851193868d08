"""workshop_utils.nas.rewards: the shipped reward table and random search's expected best."""
import numpy as np
import pytest

from workshop_utils import nas


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


def test_load_reward_table_reads_the_shipped_rewards_and_refuses_damaged_files(tmp_path):
    table = nas.load_reward_table()
    space = nas.course_model_space()
    assert len(table) == space.size == 378 and all(len(a) == 4 for a in table)
    best = max(table, key=table.get)
    assert table[best] > 0.95 and space.describe(best).endswith("globalmaxpool1d")
    # the second convolution matters on the grammar preset: no arc without it scores above 0.75
    assert max(r for a, r in table.items() if a[2] == 6) < 0.75
    from workshop_utils.nas.rewards import REWARD_TABLE_FILE

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
