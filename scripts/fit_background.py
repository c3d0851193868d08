"""Fit the order-k Markov background model of the CTCF simulator on real human DNA.

Input: ``Tests/Blat/hg38.fa`` from Biopython's source distribution (about 61 kb of
GRCh38 sequence; Biopython License Agreement), obtained offline with::

    pip download --no-deps --no-binary :all: biopython==1.88
    tar xzf biopython-1.88.tar.gz biopython-1.88/Tests/Blat/hg38.fa

Output: ``workshop_utils/background_hg38.json`` (shipped with the package), holding
the transition probabilities P(next base | previous k bases) for k = ORDER, fitted on
both strands with a pseudocount of 1, and the 0th-order base frequencies.

Usage::

    python scripts/fit_background.py path/to/hg38.fa [--order 4]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from workshop_utils._atomic import atomic_write_text  # noqa: E402  (the shipped file is replaced in one step)

OUT = Path(__file__).resolve().parents[1] / "workshop_utils" / "background_hg38.json"


def read_fasta(path: Path) -> list[str]:
    records, current = [], []
    for line in path.read_text().splitlines():
        if line.startswith(">"):
            if current:
                records.append("".join(current))
            current = []
        else:
            current.append(line.strip().upper())
    if current:
        records.append("".join(current))
    return records


def fit(records: list[str], order: int) -> tuple[np.ndarray, np.ndarray]:
    code = {b: i for i, b in enumerate("ACGT")}
    comp = str.maketrans("ACGT", "TGCA")
    counts = np.ones((4 ** order, 4))  # pseudocount 1
    base = np.zeros(4)
    for rec in records:
        for s in (rec, rec.translate(comp)[::-1]):
            idx = np.array([code.get(c, -1) for c in s])
            for i in range(order, len(idx)):
                window = idx[i - order:i + 1]
                if (window < 0).any():
                    continue
                ctx = 0
                for b in window[:-1]:
                    ctx = ctx * 4 + b
                counts[ctx, window[-1]] += 1
            base += np.bincount(idx[idx >= 0], minlength=4)
    return counts / counts.sum(1, keepdims=True), base / base.sum()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("fasta", type=Path)
    ap.add_argument("--order", type=int, default=4)
    args = ap.parse_args()
    records = read_fasta(args.fasta)
    trans, base = fit(records, args.order)
    sha = hashlib.sha256(args.fasta.read_bytes()).hexdigest()
    payload = {
        "source": "Biopython 1.88 sdist, Tests/Blat/hg38.fa (GRCh38 excerpts)",
        "source_sha256": sha,
        "n_bases": int(sum(len(r) for r in records)),
        "order": args.order,
        "alphabet": "ACGT",
        "base_freq": np.round(base, 6).tolist(),
        "transitions": np.round(trans, 6).tolist(),
    }
    atomic_write_text(OUT, json.dumps(payload, indent=0))
    print(f"wrote {OUT} (order {args.order}, {payload['n_bases']} bases, GC={base[1] + base[2]:.3f})")


if __name__ == "__main__":
    main()
