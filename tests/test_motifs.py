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
