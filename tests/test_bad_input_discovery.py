"""Bad input to motif discovery (discovery.discover_motifs, plotting.plot_cwm), as a user would give it.

Each case must raise the right exception type with a message that starts with the public
function's name and names the argument ("fn: arg must be ..."), before any attribution or
modisco work, and leave the model as it was (weights and train/eval mode).
"""
from __future__ import annotations

import re

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("modiscolite")

from workshop_utils import discovery, motifs, plotting  # noqa: E402
from workshop_utils.sequences import random_sequences  # noqa: E402

X = random_sequences(12, 60, seed=0)                                   # (12, 60, 4)
ATTR = np.random.default_rng(0).normal(size=X.shape).astype(np.float32)


def model(outputs: int = 1):
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(240, outputs))


def _found(signs):
    import pandas as pd

    names = [f"{'pos' if s > 0 else 'neg'}_0" for s in signs]
    pats = pd.DataFrame({"pattern": names, "sign": signs, "match_id": ["MA0139.1"] * len(signs)})
    inst = pd.DataFrame({"pattern": names, "sequence": 0, "start": 5, "end": 20, "strand": 1, "motif_start": 3})
    return discovery.MotifDiscovery(patterns=pats, instances=inst)


FOUND, NEG_ONLY = _found([1]), _found([-1])


def _nan(a):
    a = a.copy()
    a[3, 10, 2] = np.nan
    return a


def _file(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


CASES = [
    # too few sequences for any seqlet: modisco finds no pattern in 12 sequences of noise
    (ValueError, "X", "TF-MoDISco found no pattern", lambda t: discovery.discover_motifs(None, X, attributions=ATTR)),
    (ValueError, "X", "enough sequences", lambda t: discovery.discover_motifs(None, X[:1], attributions=ATTR[:1])),
    (ValueError, "X", "at least 44 nt", lambda t: discovery.discover_motifs(None, X[:, :30], attributions=ATTR[:, :30])),
    (ValueError, "X", "one-hot", lambda t: discovery.discover_motifs(None, X * 2, attributions=ATTR)),
    (ValueError, "X", r"transpose", lambda t: discovery.discover_motifs(None, X.transpose(0, 2, 1), attributions=ATTR)),
    # attributions of the wrong shape, NaN, all zero
    (ValueError, "attributions", r"transpose", lambda t: discovery.discover_motifs(
        None, X, attributions=ATTR.transpose(0, 2, 1))),
    (ValueError, "attributions", r"shape of X", lambda t: discovery.discover_motifs(None, X, attributions=ATTR[:5])),
    (ValueError, "attributions", "NaN", lambda t: discovery.discover_motifs(None, X, attributions=_nan(ATTR))),
    (ValueError, "attributions", "all zero", lambda t: discovery.discover_motifs(
        None, X, attributions=np.zeros_like(ATTR))),
    (ValueError, "attributions", "zero at every observed base", lambda t: discovery.discover_motifs(
        None, X, attributions=ATTR * (1 - X))),
    # a JASPAR file that is not one
    (ValueError, "database", "which is not one: no 'MEME version'", lambda t: discovery.discover_motifs(
        None, X, attributions=ATTR, database=_file(t, "JASPAR2024.meme", ">MA0139.1 CTCF\nA [ 1 2 ]\n"))),
    (ValueError, "database", "not UTF-8", lambda t: discovery.discover_motifs(
        None, X, attributions=ATTR, database=motifs.jaspar_subset_path().parents[1] / "data/peaks_TAp73alpha_w200.fa.gz")),
    (FileNotFoundError, "database", "no such file", lambda t: discovery.discover_motifs(
        None, X, attributions=ATTR, database=t / "missing.meme")),
    (ValueError, "database['CTCF']", "counts", lambda t: discovery.discover_motifs(
        None, X, attributions=ATTR, database={"CTCF": motifs.jaspar_counts("CTCF")})),
    (TypeError, "database", "MEME", lambda t: discovery.discover_motifs(None, X, attributions=ATTR, database=[1, 2])),
    # a multi-output model without target=, and ISM of one
    (ValueError, "target", "2 outputs", lambda t: discovery.discover_motifs(model(2), X, method="gradient_x_input")),
    (ValueError, "target", "2 outputs", lambda t: discovery.discover_motifs(model(2), X, method="ism")),
    (ValueError, "method", "several outputs", lambda t: discovery.discover_motifs(model(2), X, method="ism", target=1)),
    (ValueError, "target", r"0\.\.1", lambda t: discovery.discover_motifs(model(2), X, method="gradient_x_input",
                                                                          target=2)),
    # other arguments
    (TypeError, "model", "attributions=", lambda t: discovery.discover_motifs(None, X)),
    (ValueError, "method", "'ism', 'gradient_x_input'", lambda t: discovery.discover_motifs(
        model(), X, method="deeplift")),
    (ValueError, "max_seqlets", ">= 50", lambda t: discovery.discover_motifs(None, X, attributions=ATTR, max_seqlets=10)),
    (ValueError, "trim_threshold", r"\(0", lambda t: discovery.discover_motifs(None, X, attributions=ATTR,
                                                                               trim_threshold=0)),
    (TypeError, "min_seqlets", "integer", lambda t: discovery.discover_motifs(None, X, attributions=ATTR,
                                                                              min_seqlets=50.0)),
    (TypeError, "found", "MotifDiscovery", lambda t: discovery.instance_pairs({"patterns": []})),
    (ValueError, "patterns", "'pos_0'", lambda t: discovery.instance_pairs(FOUND, "pos_7")),
    (TypeError, "patterns", "pattern name", lambda t: discovery.instance_pairs(FOUND, 0)),
    (ValueError, "found", "only negative", lambda t: discovery.instance_pairs(NEG_ONLY)),
    (ValueError, "p", "finite", lambda t: discovery.bh_qvalues(np.array([0.1, np.nan]))),
    (ValueError, "cwm", "transpose", lambda t: plotting.plot_cwm(np.zeros((4, 12)))),
    (TypeError, "reverse_complement", "True or False", lambda t: plotting.plot_cwm(np.zeros((12, 4)),
                                                                                   reverse_complement="yes")),
]


@pytest.mark.parametrize("kind, name, detail, call", CASES, ids=[f"{c[1]}-{i}" for i, c in enumerate(CASES)])
def test_bad_input_is_refused_with_a_clear_message(kind, name, detail, call, tmp_path):
    with pytest.raises(kind) as info:
        call(tmp_path)
    msg = str(info.value)
    fn = "bh_qvalues" if name == "p" else "plot_cwm" if name in ("cwm", "reverse_complement") else \
        "instance_pairs" if "instance_pairs" in call.__code__.co_names else "discover_motifs"
    assert msg.startswith(f"{fn}: {name} must be"), msg
    assert re.search(detail, msg), msg


def test_a_failed_call_leaves_the_model_as_it_was():
    m = model(2)
    m.train()
    before = [p.detach().clone() for p in m.parameters()]
    with pytest.raises(ValueError, match="target"):
        discovery.discover_motifs(m, X, method="gradient_x_input")
    assert m.training and all(torch.equal(a, b) for a, b in zip(before, m.parameters()))


@pytest.mark.parametrize("bad", ["nan", "too_few", "zero"])
def test_a_failed_call_leaves_the_callers_arrays_as_they_were(bad):
    """Nothing lost: the sequences and attributions a refused call was given are not modified."""
    x, a = X.copy(), ATTR.copy()
    if bad == "nan":
        a[0, 0, 0] = np.nan
    elif bad == "zero":
        a[:] = 0
    x0, a0 = x.copy(), a.copy()
    with pytest.raises(ValueError, match="^discover_motifs: "):
        discovery.discover_motifs(None, x, attributions=a)
    assert np.array_equal(x, x0) and np.array_equal(a, a0, equal_nan=True)
