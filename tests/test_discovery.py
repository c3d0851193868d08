"""Motif discovery (workshop_utils.discovery): attributions -> TF-MoDISco -> TOMTOM against JASPAR.

The models here are *oracles* whose answer is known: a torch model that scores a sequence by
the log-sum-exp of a JASPAR PWM scanned on both strands (a soft "is there a site" detector).
Its attributions (ISM or gradients, computed by the package) highlight exactly the planted
sites, so discovery must name the planted motif, at the planted positions and orientations.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("modiscolite")

from workshop_utils import attribution, datasets, discovery, motifs  # noqa: E402

N = 500  # sequences per run: enough for ~200 CTCF seqlets, a few seconds of modisco


class PWMOracle(torch.nn.Module):
    """logit = logsumexp (``pool='max'``, the best site) or sum of softplus (``pool='sum'``, every site)
    over positions and both strands of a PWM score minus ``bias``; ``(N, L, 4)`` in."""

    def __init__(self, ppm: np.ndarray, bias: float = 8.0, outputs: int = 1, pool: str = "max"):
        super().__init__()
        pwm = motifs.pwm_log_odds(ppm)
        w = np.stack([pwm.T, pwm[::-1, ::-1].T])
        self.conv = torch.nn.Conv1d(4, 2, pwm.shape[0])
        with torch.no_grad():
            self.conv.weight.copy_(torch.tensor(w, dtype=torch.float32))
            self.conv.bias.fill_(-bias)
        self.outputs, self.pool = outputs, pool

    def forward(self, x):
        s = self.conv(x.transpose(1, 2)).flatten(1)
        z = torch.logsumexp(s, 1) if self.pool == "max" else torch.nn.functional.softplus(s).sum(1)
        return z if self.outputs == 1 else torch.stack([z] * self.outputs, 1)


def _planted(ppm: np.ndarray, n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Background DNA with one instance of ``ppm`` per sequence: X ``(n, 200, 4)``, starts, strands."""
    rng = np.random.default_rng(seed)
    seqs = datasets.sample_background(n, 200, rng)
    inst = motifs.sample_instances(ppm, n, rng)
    W = ppm.shape[0]
    start = rng.integers(20, 200 - W - 20, n)
    strand = np.where(rng.random(n) < 0.5, -1, 1)
    inst = np.where(strand[:, None] < 0, 3 - inst[:, ::-1], inst)
    seqs[np.arange(n)[:, None], start[:, None] + np.arange(W)] = inst
    return np.eye(4, dtype=np.float32)[seqs], start, strand


@pytest.fixture(scope="module")
def ctcf_run():
    X, _, sites = datasets.simulate_ctcf(N, seed=1)
    model = PWMOracle(motifs.ctcf_pfm())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = discovery.discover_motifs(model, X, method="ism")
    return X, sites, model, found


def test_bh_qvalues_are_benjamini_hochberg():
    from scipy.stats import false_discovery_control

    p = np.random.default_rng(0).random((3, 40)) ** 3
    np.testing.assert_allclose(discovery.bh_qvalues(p), false_discovery_control(p, axis=-1), rtol=1e-12)


def test_ism_discovery_names_ctcf_ma0139_1_with_q_below_0_01(ctcf_run):
    X, sites, _, found = ctcf_run
    pats = found.patterns
    assert list(pats.columns[:10]) == ["pattern", "sign", "n_seqlets", "frac_sequences", "width", "match_id",
                                       "match_name", "p_value", "q_value", "strand"]
    top = found.top()
    assert top["pattern"] == "pos_0" and top["n_seqlets"] >= 100
    inst = found.instances[found.instances["pattern"] == "pos_0"]
    assert top["frac_sequences"] == inst["sequence"].nunique() / len(X) and 0.2 < top["frac_sequences"] <= 1
    assert top["match_id"] == "MA0139.1" and top["match_name"] == "CTCF"
    assert top["q_value"] < 0.01 and top["p_value"] <= top["q_value"]
    assert top["second_q_value"] > 100 * top["q_value"]           # CTCF far ahead of the runner-up (CTCFL)
    assert found.cwms["pos_0"].shape == (top["width"], 4) and found.ppms["pos_0"].shape == (top["width"], 4)
    assert found.attributions.shape == X.shape
    assert set(found.matches["pos_0"]) >= {"p_value", "q_value", "strand", "offset", "names"}


def test_instances_sit_on_the_planted_sites_in_their_orientation(ctcf_run):
    X, sites, _, found = ctcf_run
    inst = found.instances[found.instances["pattern"] == "pos_0"]
    assert len(inst) == found.top()["n_seqlets"]
    assert inst["sequence"].between(0, len(X) - 1).all() and (inst["start"] < inst["end"]).all()
    planted = sites["start"][inst["sequence"]] >= 0
    on_site = planted & (sites["start"][inst["sequence"]] == inst["motif_start"].to_numpy())
    # every sequence also has an unrecorded flank site, so not every instance is the recorded one
    assert on_site.sum() >= 0.6 * planted.sum()
    same_strand = sites["strand"][inst["sequence"]][on_site] == inst["strand"].to_numpy()[on_site]
    assert same_strand.all()
    # the instance's motif window scores as a CTCF site on the strand it reports
    pwm = motifs.pwm_log_odds(motifs.ctcf_pfm())
    hits = motifs.best_hits(X[inst["sequence"].to_numpy()[on_site]], pwm)
    assert (hits["strand"] == inst["strand"].to_numpy()[on_site]).mean() > 0.9


def test_gradient_x_input_discovery_also_finds_ctcf():
    X, _, _ = datasets.simulate_ctcf(N, seed=2)
    model = PWMOracle(motifs.ctcf_pfm())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = discovery.discover_motifs(model, X, method="gradient_x_input")
    grad = attribution.saliency(model, X)
    np.testing.assert_allclose(found.attributions, grad - grad.mean(-1, keepdims=True), atol=1e-5)
    top = found.top()
    assert top["match_id"] == "MA0139.1" and top["q_value"] < 0.01


def test_negative_control_p53_sites_are_not_called_ctcf():
    db = motifs.load_jaspar_subset()
    X, start, strand = _planted(db["MA0106.3 TP53"], N, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = discovery.discover_motifs(PWMOracle(db["MA0106.3 TP53"] * 0.97 + 0.0075), X, method="ism")
    top = found.top()
    assert top["match_name"] in {"TP53", "TP63", "TP73"} and top["q_value"] < 0.01
    assert "CTCF" not in set(found.patterns["match_name"])
    ctcf = list(db).index("MA0139.1 CTCF")
    assert min(m["q_value"][ctcf] for m in found.matches.values()) > 0.01   # no pattern is even close to CTCF


def test_precomputed_attributions_and_a_custom_database(ctcf_run):
    X, _, _, found = ctcf_run
    db = motifs.load_jaspar_subset()
    small = {k: v for k, v in db.items() if k.split()[1] != "CTCF"}        # CTCF left out: CTCFL is next best
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        other = discovery.discover_motifs(None, X, attributions=found.attributions, database=small)
    # the same attributions give the same patterns (modisco is deterministic), named from the given motifs
    assert other.patterns["n_seqlets"].tolist() == found.patterns["n_seqlets"].tolist()
    assert other.top()["match_name"] == "CTCFL" and len(other.matches["pos_0"]["p_value"]) == len(small)


def test_instance_pairs_give_the_grammar_presets_spacing_and_orientation():
    X, _, sites = datasets.simulate_ctcf(300, preset="grammar", seed=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = discovery.discover_motifs(PWMOracle(motifs.ctcf_pfm(), pool="sum"), X, method="ism")
    pairs = discovery.instance_pairs(found)      # every pattern matched to CTCF (modisco splits it in several)
    assert list(pairs.columns) == ["sequence", "start1", "start2", "strand1", "strand2", "spacing", "orientation"]
    assert len(pairs) >= 50 and (pairs["spacing"] >= 0).all()
    seq = pairs["sequence"].to_numpy()
    planted = (pairs["start1"].to_numpy() == sites["start"][seq]) & (pairs["spacing"].to_numpy() == sites["spacing"][seq])
    assert planted.mean() >= 0.7                 # most pairs found are the planted pair, at its exact spacing
    want = [discovery.ORIENTATIONS[(a, b)] for a, b in zip(sites["strand"][seq], sites["strand2"][seq])]
    assert (np.array(want) == pairs["orientation"].to_numpy())[planted].all()
    assert (pairs["orientation"] == "convergent").sum() > (pairs["orientation"] != "convergent").sum()
    one = discovery.instance_pairs(found, "pos_0")
    assert set(one["sequence"]) <= set(found.instances.loc[found.instances["pattern"] == "pos_0", "sequence"])


def test_plot_cwm_draws_the_pattern(ctcf_run):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from workshop_utils import plotting

    _, _, _, found = ctcf_run
    top = found.top()
    ax = plotting.plot_cwm(found.cwms["pos_0"], title=f"{top['match_name']} q={top['q_value']:.1e}",
                           reverse_complement=bool(top["strand"] == -1))
    assert ax.get_ylabel() == "contribution" and ax.get_title().startswith("CTCF")
    assert len(ax.texts) == 0 and len(ax.patches) + len(ax.collections) > 0
    plt.close("all")


def test_import_stays_light():
    """``import workshop_utils`` reaches discovery without importing modisco, memelite, pandas or a framework."""
    import subprocess
    import sys

    code = ("import sys, workshop_utils as wu; wu.discovery.discover_motifs; wu.motifs.load_jaspar_subset; "
            "print([m for m in ('modiscolite', 'memelite', 'pandas', 'torch', 'tensorflow', 'numba') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "[]", out.stdout + out.stderr


def test_top_with_min_fraction_names_only_a_pattern_most_sequences_carry():
    import pandas as pd

    from workshop_utils.discovery import MotifDiscovery

    pats = pd.DataFrame({"pattern": ["pos_0", "pos_1", "neg_0"], "sign": [1, 1, -1], "n_seqlets": [50, 40, 9],
                         "frac_sequences": [0.29, 0.6, 0.8], "match_name": ["CTCF", "TP73", "SP1"]})
    found = MotifDiscovery(patterns=pats, instances=pd.DataFrame())
    assert found.top()["pattern"] == "pos_0"                       # most seqlets
    assert found.top(min_fraction=0.5)["pattern"] == "pos_1"       # the one most sequences carry
    assert found.top(min_fraction=0.9) is None and found.top(-1, min_fraction=0.5)["pattern"] == "neg_0"
    with pytest.raises(ValueError, match="MotifDiscovery.top: min_fraction"):
        found.top(min_fraction=50)                                 # a percentage for a fraction
    with pytest.raises(ValueError, match="MotifDiscovery.top: sign"):
        found.top(sign=0)
