"""Does modisco-lite's numba code (and memelite's TOMTOM) run on Colab's Python?  (#24, item 3)

Colab runs Python 3.13 with numpy 2.1.3; the workbook's venv is Python 3.11.  This script
needs neither torch nor the workbook: synthetic attributions for 400 random sequences, a
CTCF-like 19-mer planted in each on a random strand, hypothetical contributions raised at the
planted bases, small noise elsewhere.  TF-MoDISco must cluster the planted sites into a
pattern and TOMTOM must match that pattern's PPM to the planted site far ahead of random
decoys.  Run in a throwaway environment::

    ~/.pyenv/versions/3.13.0/bin/python -m venv /tmp/py313
    /tmp/py313/bin/pip install numpy==2.1.3 modisco-lite==3.0.0 memelite==0.5.0
    /tmp/py313/bin/python scripts/check_colab_modisco.py

Result here (2026-12-05, Python 3.13.0, numpy 2.1.3, numba 0.68.1, llvmlite 0.50.0,
modisco-lite 3.0.0, memelite 0.5.0, leidenalg 0.11.0, igraph 1.0.0; a 2-core machine shared by
about seven jobs, load average ~18): 1 positive pattern of 396 seqlets, TOMTOM p-value 1.3e-35
against the planted site (best of 30 random decoys 2.4e-3), "OK"; 267 s wall for TF-MoDISco,
76 s of CPU for the whole script, most of it numba compiling the kernels on first use.
pip could not resolve torch==2.11.0 (Colab's) for Python 3.13 from the package indexes this
machine reaches, so the attribution step was not run under 3.13; it is plain torch/keras code,
not numba.
"""
import sys, time
import numpy as np
print(sys.version.split()[0], "numpy", np.__version__)
import numba, modiscolite, memelite
print("numba", numba.__version__, "modisco-lite", getattr(modiscolite, "__version__", "3.0.0"), "memelite", getattr(memelite, "__version__", "?"))
from modiscolite.tfmodisco import TFMoDISco
from memelite import tomtom
rng = np.random.default_rng(0)
N, L = 400, 200
idx = rng.integers(0, 4, (N, L))
site = np.array(["ACGT".index(b) for b in "TGGCCACCAGGGGGCGCTA"])       # a CTCF-like 19-mer
start = rng.integers(30, 150, N)
for i in range(N):
    s = site if rng.random() < 0.5 else (3 - site[::-1])
    idx[i, start[i]:start[i] + 19] = s
X = np.eye(4, dtype=np.float32)[idx]
hyp = rng.normal(0, 0.05, X.shape).astype(np.float32)
for i in range(N):
    hyp[i, start[i]:start[i] + 19] += 2 * X[i, start[i]:start[i] + 19] - 0.5
hyp -= hyp.mean(-1, keepdims=True)
t = time.perf_counter()
pos, neg = TFMoDISco(one_hot=X, hypothetical_contribs=hyp, sliding_window_size=21, flank_size=10,
                     min_metacluster_size=50, max_seqlets_per_metacluster=2000, n_leiden_runs=4,
                     final_min_cluster_size=20, trim_to_window_size=30, initial_flank_to_add=10, verbose=False)
print(f"TFMoDISco: {len(pos or [])} positive, {len(neg or [])} negative patterns, {time.perf_counter() - t:.1f} s")
p0 = pos[0]
print("pos_0 seqlets", len(p0.seqlets))
ppm = np.asarray(p0.sequence, dtype=float) + 1e-3
ppm /= ppm.sum(1, keepdims=True)
target = np.eye(4)[site] * 0.97 + 0.0075
decoys = [rng.dirichlet(np.ones(4), 12) for _ in range(30)]
p, scores, offsets, overlaps, strands = tomtom([ppm.T], [target.T] + [d.T for d in decoys])
print("TOMTOM p-value vs the planted site", float(p[0, 0]), "best of 30 random decoys", float(p[0, 1:].min()))
assert len(p0.seqlets) >= 200 and p[0, 0] < 1e-4 and p[0, 0] < p[0, 1:].min()
print("OK")
