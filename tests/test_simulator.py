"""workshop_utils.simulator: the CTCF simulator draws what its docstring says, deterministically."""
import numpy as np
import pytest

from workshop_utils import simulator
from workshop_utils.motifs import best_hits, ctcf_pfm, pwm_log_odds
from workshop_utils.simulator import simulate_ctcf


def test_simulator_shapes_and_determinism():
    X, y, sites = simulate_ctcf(500, seed=3)
    assert X.shape == (500, 200, 4) and X.dtype == np.float32 and y.shape == (500,)
    np.testing.assert_array_equal(X.sum(-1), 1)
    X2, y2, _ = simulate_ctcf(500, seed=3)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    assert not np.array_equal(X, simulate_ctcf(500, seed=4)[0])


def test_planted_sites_are_real_ctcf_instances():
    X, y, sites = simulate_ctcf(2000, seed=0)
    has = sites["start"] >= 0
    # most bound sequences carry a site, a few unbound ones do too
    assert 0.7 < has[y == 1].mean() < 0.95
    assert 0.0 < has[y == 0].mean() < 0.2
    # bound sites sit near the centre, like peak summits
    assert abs(np.median(sites["start"][has & (y == 1)]) - 90.5) < 8
    # the planted window scores as a CTCF site on the stored strand
    pwm = pwm_log_odds(ctcf_pfm())
    idx = np.nonzero(has & (y == 1))[0][:50]
    for i in idx:
        s, strand = sites["start"][i], sites["strand"][i]
        window = X[i, s:s + 19]
        if strand == -1:
            window = window[::-1, ::-1]
        assert (pwm * window).sum() > 0
    hits = best_hits(X[idx], pwm)
    # the planted (strong) site is usually the best PWM hit; flank sites sometimes win
    assert np.mean(np.abs(hits["start"] - sites["start"][idx]) <= 2) > 0.6


def test_default_presets_are_unchanged_by_the_grammar_preset():
    # md5 of simulate_ctcf(300, preset, seed=5) before the 'grammar' preset was added:
    # the Day-1 lessons and homework thresholds rest on these data
    import hashlib

    for preset, digest in (("default", "779aadfb52b927d462f417c51790eff7"),
                           ("hard", "6ae7a51e494e89badc2c37784423d506")):
        X, y, s = simulate_ctcf(300, preset=preset, seed=5)
        assert hashlib.md5(X.tobytes() + y.tobytes() + s["start"].tobytes()).hexdigest() == digest


def test_grammar_preset_labels_depend_on_spacing_and_orientation():
    X, y, sites = simulate_ctcf(3000, preset="grammar", seed=1)
    assert X.shape == (3000, 200, 4) and 0.45 < y.mean() < 0.55
    grammar = ((sites["spacing"] >= 25) & (sites["spacing"] <= 27)
               & (sites["strand"] == 1) & (sites["strand2"] == -1))
    # the binding grammar explains the label up to the preset's 2% label noise each way
    assert grammar[y == 1].mean() > 0.95 and grammar[y == 0].mean() < 0.05
    # wrong spacings lie on both sides of the preferred one, at least 3 nt away
    wrong_spacing = sites["spacing"][(y == 0) & ~grammar & ((sites["spacing"] < 25) | (sites["spacing"] > 27))]
    assert set(np.unique(wrong_spacing)) == set(range(19, 22)) | set(range(31, 37))
    # every sequence of both classes carries two strong sites on the recorded strands
    pwm = pwm_log_odds(ctcf_pfm())
    for i in range(0, 3000, 150):
        for start, strand in ((sites["start"][i], sites["strand"][i]),
                              (sites["start"][i] + sites["spacing"][i], sites["strand2"][i])):
            window = X[i, start:start + 19]
            if strand == -1:
                window = window[::-1, ::-1]
            assert (pwm * window).sum() >= simulator.PRESETS["grammar"].min_site_score
    # unbound sequences are wrong in spacing, orientation or both, in about equal parts
    wrong = y == 0
    right_spacing = (sites["spacing"] >= 25) & (sites["spacing"] <= 27)
    convergent = (sites["strand"] == 1) & (sites["strand2"] == -1)
    assert 0.2 < (right_spacing & ~convergent)[wrong].mean() < 0.45
    assert 0.2 < (~right_spacing & convergent)[wrong].mean() < 0.45
    # the same motif content in both classes: the number of strong CTCF hits does not differ
    from workshop_utils.motifs import scan

    n_hits = (scan(X[:1000], pwm) >= 6.0).sum((1, 2))
    assert abs(n_hits[y[:1000] == 1].mean() - n_hits[y[:1000] == 0].mean()) < 0.15


def test_grammar_preset_rejects_spacings_that_do_not_fit():
    bad = simulator.SimulationPreset(pair_spacing=(10, 12))
    with pytest.raises(ValueError, match="preset.pair_spacing and preset.other_spacing must be"):
        simulate_ctcf(10, preset=bad)
    with pytest.raises(ValueError, match="preset.pair_spacing and preset.other_spacing must be"):
        simulate_ctcf(10, length=60, preset=simulator.SimulationPreset(pair_spacing=(40, 45)))
    with pytest.raises(ValueError, match="preset.other_spacing must leave a spacing"):
        simulate_ctcf(10, preset=simulator.SimulationPreset(pair_spacing=(25, 27), other_spacing=(23, 29)))


def test_background_is_fitted_on_human_dna():
    bg = simulator.load_background()
    assert bg["order"] == 4 and bg["transitions"].shape == (256, 4)
    np.testing.assert_allclose(bg["transitions"].sum(1), 1, atol=1e-4)
    seqs = simulator.sample_background(2000, 200, rng=0)
    gc = np.isin(seqs, (1, 2)).mean()
    assert abs(gc - (bg["base_freq"][1] + bg["base_freq"][2])) < 0.02
    # CpG depletion, the signature of mammalian DNA that a uniform background lacks
    cg = ((seqs[:, :-1] == 1) & (seqs[:, 1:] == 2)).mean()
    assert cg < 0.5 * (gc / 2) ** 2


def test_simulator_bad_arguments():
    with pytest.raises(ValueError, match="preset must be one of"):
        simulate_ctcf(10, preset="easy")
    with pytest.raises(ValueError, match="length must be"):
        simulate_ctcf(10, length=20)
    with pytest.raises(ValueError, match="n must be"):
        simulate_ctcf(0)


def test_make_ctcf_data_draws_three_disjoint_splits():
    data = simulator.make_ctcf_data({"train": 50, "valid": 20, "test": 30}, seed=4)
    assert [len(data.split(s)[1]) for s in ("train", "valid", "test")] == [50, 20, 30]
    assert not np.array_equal(data.x_train[:20], data.x_valid)
    np.testing.assert_array_equal(data.x_test, simulate_ctcf(30, seed=42)[0])  # split k is seed * 10 + k
    assert "preset=default, seed=4" in data.source


def test_resolve_preset_and_check_sizes():
    assert simulator.resolve_preset("hard") is simulator.PRESETS["hard"]
    custom = simulator.SimulationPreset(decoy_rate=0.0)
    assert simulator.resolve_preset(custom) is custom
    with pytest.raises(ValueError, match=r"^make_ctcf_data: preset must be one of 'default', 'grammar', 'hard'"):
        simulator.resolve_preset("easy", "make_ctcf_data")
    assert simulator.check_sizes(None) == simulator.default_sizes()
    assert simulator.check_sizes({"train": np.int64(3), "valid": 1, "test": 2}) == {"train": 3, "valid": 1, "test": 2}
    with pytest.raises(ValueError, match=r"^load_ctcf: sizes must be a dict .*missing \['test'\]"):
        simulator.check_sizes({"train": 3, "valid": 1}, "load_ctcf")
    with pytest.raises(ValueError, match=r"sizes\['valid'\] must be a positive integer, got 0"):
        simulator.check_sizes({"train": 3, "valid": 0, "test": 1})
