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


def test_jaspar_subset_ships_ctcf_ctcfl_and_the_p53_family_offline():
    db = motifs.load_jaspar_subset()
    assert 60 <= len(db) <= 120 and list(db)[0] == "MA0139.1 CTCF"
    names = {k.split()[1] for k in db}
    assert {"CTCF", "CTCFL", "TP53", "TP63", "TP73"} <= names and set(motifs.DECOY_NAMES) <= names
    assert sum(k.split()[1] == "CTCF" for k in db) == 1          # one CTCF matrix: "top match MA0139.1" means CTCF
    # the shipped file's CTCF is the package's JASPAR counts (same release), without a pseudocount
    np.testing.assert_allclose(db["MA0139.1 CTCF"], motifs.counts_to_ppm(motifs.jaspar_counts("CTCF"), 0), atol=1e-5)
    for name in motifs.DECOY_NAMES:  # the decoys at the versions the simulator plants (motifs.py rounds the counts)
        key = f"{motifs.jaspar_id(name)} {name}"
        np.testing.assert_allclose(db[key], motifs.counts_to_ppm(motifs.jaspar_counts(name), 0), atol=5e-3)
    for key, ppm in db.items():
        motifs.check_ppm(ppm, key)
        assert ppm.shape[0] >= 5
    assert motifs.jaspar_subset_path().stat().st_size < 60_000


def test_read_meme_reads_what_memelite_reads(tmp_path):
    from memelite.io import read_meme as meme_read

    ours = motifs.load_jaspar_subset()
    theirs = meme_read(str(motifs.jaspar_subset_path()))
    assert list(ours) == [k.strip() for k in theirs]
    for (k, a), b in zip(ours.items(), theirs.values()):
        np.testing.assert_allclose(a, np.asarray(b).T, atol=1e-5, err_msg=k)
    # a file of one motif without w=, as some tools write it
    f = tmp_path / "one.meme"
    f.write_text("MEME version 5\n\nALPHABET= ACGT\n\nMOTIF m1\nletter-probability matrix:\n"
                 "0.7 0.1 0.1 0.1\n0 0 1 0\n\n")
    one = motifs.read_meme(f)
    assert list(one) == ["m1"] and one["m1"].shape == (2, 4)


@pytest.mark.parametrize("text, what", [
    ("just some text\n", "no 'MEME version' line"),
    ("MEME version 4\n\nALPHABET= ACDEFGHIKLMNPQRSTVWY\n", "not DNA"),
    ("MEME version 4\n\nALPHABET= ACGT\n", "no MOTIF block"),
    ("MEME version 4\nMOTIF a\n0.25 0.25 0.25 0.25\n", "no 'letter-probability matrix'"),
    ("MEME version 4\nMOTIF a\nletter-probability matrix: w= 3\n0.25 0.25 0.25 0.25\n", r"1 matrix row\(s\), expected 3"),
    ("MEME version 4\nMOTIF a\nletter-probability matrix: w= 1\n0.5 0.5 0.5 0.5\n", "summing to 1"),
    ("MEME version 4\nMOTIF a\nletter-probability matrix: w= 1\n0.5 0.5\n", "summing to 1"),
    ("MEME version 4\nMOTIF a\nletter-probability matrix: w= 1\nx y z w\n", "not numbers"),
    ("MEME version 4\nMOTIF a\nletter-probability matrix: w= 1\n1 0 0 0\nMOTIF a\n"
     "letter-probability matrix: w= 1\n1 0 0 0\n", "appears twice"),
])
def test_read_meme_names_the_file_that_is_not_one(tmp_path, text, what):
    f = tmp_path / "db.meme"
    f.write_text(text)
    with pytest.raises(ValueError, match=rf"read_meme: path must be a MEME motif file .*got '{f}', which is not one: .*{what}"):
        motifs.read_meme(f)
    g = tmp_path / "db.meme.gz"
    g.write_bytes(b"\x1f\x8b\x08\x00\xff\xfe")
    with pytest.raises(ValueError, match="not UTF-8 text"):
        motifs.read_meme(g)
    with pytest.raises(FileNotFoundError, match="read_meme: path must be an existing file"):
        motifs.read_meme(tmp_path / "missing.meme")
