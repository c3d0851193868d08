import numpy as np
import pytest

from workshop_utils import motifs
from workshop_utils.sequences import one_hot_encode, random_sequences, reverse_complement


def test_ctcf_is_jaspar_ma0139_1():
    counts = motifs.jaspar_counts("ctcf")
    assert counts.shape == (19, 4)
    assert motifs.jaspar_id("CTCF") == "MA0139.1"
    # the published first column (A, C, G, T) and its column total
    np.testing.assert_array_equal(counts[0], [87, 291, 76, 459])
    assert counts.sum(1).min() > 900
    with pytest.raises(ValueError, match="unknown motif"):
        motifs.jaspar_counts("NOPE")


def test_ppm_and_log_odds():
    ppm = motifs.ctcf_pfm()
    np.testing.assert_allclose(ppm.sum(1), 1)
    pwm = motifs.pwm_log_odds(ppm)
    consensus = "".join("ACGT"[i] for i in ppm.argmax(1))
    assert pwm[np.arange(19), ppm.argmax(1)].sum() > 15
    assert consensus[4:9] == "CCAGC" or len(consensus) == 19
    with pytest.raises(ValueError, match="pwm_log_odds: ppm must be a probability matrix .*summing to 1"):
        motifs.pwm_log_odds(np.ones((3, 4)))


def test_scan_finds_planted_site_on_both_strands():
    ppm = motifs.ctcf_pfm()
    consensus = "".join("ACGT"[i] for i in ppm.argmax(1))
    bg = random_sequences(2, 60, seed=0)
    site = one_hot_encode(consensus)[0]
    bg[0, 10:29] = site
    bg[1, 30:49] = reverse_complement(site[None])[0]
    hits = motifs.best_hits(bg, motifs.pwm_log_odds(ppm))
    assert hits["start"].tolist() == [10, 30]
    assert hits["strand"].tolist() == [1, -1]
    assert motifs.scan(bg, motifs.pwm_log_odds(ppm)).shape == (2, 2, 42)


def test_sample_instances_follow_matrix():
    ppm = motifs.ctcf_pfm()
    inst = motifs.sample_instances(ppm, 4000, rng=0)
    freq = np.stack([(inst == b).mean(0) for b in range(4)], axis=1)
    np.testing.assert_allclose(freq, ppm, atol=0.03)


def test_compare_to_motif_finds_window_and_strand():
    ppm = motifs.ctcf_pfm()
    attr = np.zeros((100, 4))
    attr[40:59] = ppm * motifs.information_content(ppm)[:, None]
    best = motifs.compare_to_motif(attr)
    assert best["start"] == 40 and best["strand"] == 1 and best["similarity"] > 0.99
    best_rc = motifs.compare_to_motif(attr[::-1, ::-1])
    assert best_rc["strand"] == -1 and best_rc["start"] == 100 - 59
    with pytest.raises(ValueError, match=r"compare_to_motif: attr must be a 2-D numeric array"):
        motifs.compare_to_motif(np.zeros(10))


def test_match_motifs_finds_a_motif_on_either_strand_among_random_ones():
    from workshop_utils.motifs import counts_to_ppm, jaspar_counts, match_motifs, motif_names

    rng = np.random.default_rng(0)
    ctcf = counts_to_ppm(jaspar_counts("CTCF"))
    decoys = [counts_to_ppm(jaspar_counts(n)) for n in motif_names()[1:]]
    noise = [rng.dirichlet(np.full(4, 0.5), size=int(w)) for w in rng.integers(8, 20, size=24)]
    targets = noise[:10] + [ctcf[::-1, ::-1]] + noise[10:] + decoys        # 30 targets, CTCF's reverse complement at 10
    part = ctcf[3:15]                                                      # a 12-column piece, as a filter learns
    m = match_motifs([part, decoys[0]], targets)
    assert set(m) == {"p_value", "score", "offset", "overlap", "strand"}
    assert all(v.shape == (2, 30) for v in m.values())
    assert int(m["p_value"][0].argmin()) == 10 and m["p_value"][0, 10] < 1e-6   # found, on the other strand
    assert m["strand"][0, 10] == -1 and m["overlap"][0, 10] == 12
    assert np.sort(m["p_value"][0])[1] > 1e3 * m["p_value"][0, 10]       # far ahead of the second best
    assert int(m["p_value"][1].argmin()) == 25 and m["strand"][1, 25] == 1  # SP1 matches itself, as given
    assert ((m["p_value"] >= 0) & (m["p_value"] <= 1)).all()


def test_match_motifs_refuses_what_is_not_a_list_of_probability_matrices():
    from workshop_utils.motifs import ctcf_pfm, match_motifs, pwm_log_odds

    ppm = ctcf_pfm()
    with pytest.raises(TypeError, match=r"match_motifs: queries must be a list of \(W, 4\) .*\[ppm\]"):
        match_motifs(ppm, [ppm])
    with pytest.raises(ValueError, match="match_motifs: targets must be a non-empty list"):
        match_motifs([ppm], [])
    with pytest.raises(ValueError, match=r"match_motifs: targets\[1\] must be a probability matrix.*log-odds"):
        match_motifs([ppm], [ppm, pwm_log_odds(ppm)])
    with pytest.raises(ValueError, match=r"queries\[0\] must be a \(W, 4\) matrix.*transpose"):
        match_motifs([ppm.T], [ppm])
