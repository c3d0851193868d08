"""Write the small JASPAR CORE subset the package ships (``workshop_utils/jaspar_core_subset.meme``).

The matrices come from the JASPAR 2024 SQLite database that the PyPI package pyjaspar
bundles; pyjaspar itself is not needed (nor installed): the script opens the wheel as a
zip file and reads the database with the standard library's ``sqlite3``::

    pip download --no-deps pyjaspar==4.0.0 -d /tmp/pyjaspar
    python scripts/extract_jaspar_subset.py /tmp/pyjaspar/pyjaspar-4.0.0-py3-none-any.whl

(``--sqlite PATH`` reads an already extracted ``JASPAR2024.sqlite`` instead.)

Which matrices: CTCF MA0139.1 (the version the simulator plants, kept as the only CTCF
matrix so that "the top match is MA0139.1" means CTCF), CTCFL, the p53 family (TP53, TP63,
TP73), the simulator's decoys at the versions it plants (SP1 MA0079.5, GATA1 MA0035.4,
FOS::JUN MA0099.3, YY1 MA0095.3, CEBPA MA0102.4), and vertebrate factors of many structural families (so that TOMTOM's null, built from the
target columns, is not made of CTCF-like columns only).  The output is MEME minimal format
(probabilities = counts / column total, ``nsites`` = the column total), readable by
``workshop_utils.motifs.read_meme`` and by memelite/tangermeme's ``read_meme``.
"""
from __future__ import annotations

import argparse
import hashlib
import sqlite3
import sys
import tempfile
import zipfile
from pathlib import Path

RELEASE = "JASPAR2024"
OUT = Path(__file__).resolve().parents[1] / "workshop_utils" / "jaspar_core_subset.meme"

# (name, version or None = the latest CORE vertebrate version in the release)
PINNED = {"CTCF": ("MA0139", 1), "SP1": ("MA0079", 5), "GATA1": ("MA0035", 4), "FOS::JUN": ("MA0099", 3),
          "YY1": ("MA0095", 3), "CEBPA": ("MA0102", 4)}
LATEST = [
    "CTCFL", "TP53", "TP63", "TP73",
    # zinc fingers
    "REST", "ZNF143", "EGR1", "KLF4", "KLF1", "ZBTB33", "ZNF263", "PRDM1", "GFI1", "SNAI2", "ZEB1",
    # bZIP
    "CREB1", "ATF3", "JUND", "NFE2", "MAFK", "BACH1", "NFE2L2", "CEBPB",
    # bHLH / bHLH-ZIP
    "MAX", "MYC", "USF1", "USF2", "TCF12", "ASCL1", "NEUROD1", "MYOD1", "BHLHE40", "TFAP4",
    # ETS, E2F, NRF1, NF-Y, RFX
    "ELK1", "ETS1", "GABPA", "SPI1", "ELF1", "E2F1", "E2F4", "NRF1", "NFYA", "RFX1",
    # forkhead, homeodomain, POU, SOX, HMG
    "FOXA1", "FOXA2", "HNF1A", "CDX2", "PBX1", "MEIS1", "POU2F2", "POU5F1", "SOX2", "TCF7L2", "LEF1",
    # nuclear receptors
    "HNF4A", "NR3C1", "AR", "ESR1", "RXRA",
    # others: Runt, TEA, MADS, STAT, IRF, Rel, PAX, EBF, NFI, AP-2
    "RUNX1", "TEAD1", "TEAD4", "SRF", "MEF2A", "MEF2C", "STAT1", "STAT3", "IRF1", "IRF4", "NFKB1", "RELA",
    "PAX5", "EBF1", "NFIC", "TFAP2A",
]


def _sqlite_path(args, tmp: Path) -> tuple[Path, str]:
    if args.sqlite:
        return Path(args.sqlite), f"{Path(args.sqlite).name} (given directly)"
    wheel = Path(args.wheel)
    member = f"pyjaspar/data/{RELEASE}.sqlite"
    with zipfile.ZipFile(wheel) as z:
        z.extract(member, tmp)
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    return tmp / member, f"{member} inside {wheel.name} (sha256 {digest})"


def _matrix(con, mid: int) -> list[list[float]]:
    rows = {b: {} for b in "ACGT"}
    for row, col, val in con.execute("SELECT row, col, val FROM MATRIX_DATA WHERE ID = ?", (mid,)):
        rows[row.upper()][int(col)] = float(val)
    width = len(rows["A"])
    if width == 0 or any(sorted(r) != list(range(1, width + 1)) for r in rows.values()):
        raise SystemExit(f"matrix {mid}: incomplete MATRIX_DATA")
    return [[rows[b][c] for b in "ACGT"] for c in range(1, width + 1)]


def _select(con) -> list[tuple[int, str, str]]:
    """(internal id, 'BASE.VERSION', name) of every chosen matrix, in the order written."""
    query = ("SELECT m.ID, m.BASE_ID, m.VERSION FROM MATRIX m JOIN MATRIX_ANNOTATION a ON a.ID = m.ID "
             "WHERE m.NAME = ? AND m.COLLECTION = 'CORE' AND a.TAG = 'tax_group' AND a.VAL = 'vertebrates'")
    chosen = []
    for name in list(PINNED) + LATEST:
        hits = con.execute(query, (name,)).fetchall()
        if name in PINNED:
            hits = [h for h in hits if (h[1], h[2]) == PINNED[name]]
        else:  # one matrix per factor: its first base ID (the lowest) at that ID's latest version
            first = min(h[1] for h in hits)
            hits = sorted((h for h in hits if h[1] == first), key=lambda h: h[2])[-1:]
        if not hits:
            raise SystemExit(f"{name}: not in {RELEASE} CORE vertebrates")
        mid, base, version = hits[0]
        chosen.append((mid, f"{base}.{version}", name))
    return chosen


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("wheel", nargs="?", help="pyjaspar-4.0.0-py3-none-any.whl (from pip download)")
    p.add_argument("--sqlite", help=f"an extracted {RELEASE}.sqlite instead of the wheel")
    p.add_argument("--out", default=str(OUT))
    args = p.parse_args(argv)
    if not args.wheel and not args.sqlite:
        p.error("give the pyjaspar wheel or --sqlite")
    with tempfile.TemporaryDirectory() as tmp:
        db, source = _sqlite_path(args, Path(tmp))
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        chosen = _select(con)
        lines = ["MEME version 4", "", "ALPHABET= ACGT", "", "strands: + -", "",
                 "Background letter frequencies", "A 0.25 C 0.25 G 0.25 T 0.25", "",
                 f"# {len(chosen)} vertebrate CORE matrices of {RELEASE} (https://jaspar.elixir.no), CC BY 4.0:",
                 "# Rauluseviciute I. et al. (2024) Nucleic Acids Res. 52(D1):D174-D182.",
                 f"# Extracted by scripts/extract_jaspar_subset.py from {source}.",
                 "# Probabilities are counts / column total; nsites is the column total.", ""]
        for mid, jid, name in chosen:
            counts = _matrix(con, mid)
            total = sum(counts[0])
            lines += [f"MOTIF {jid} {name}", "",
                      f"letter-probability matrix: alength= 4 w= {len(counts)} nsites= {round(total)} E= 0"]
            lines += [" ".join(f"{c / sum(col):.6f}" for c in col) for col in counts]
            lines += [f"URL https://jaspar.elixir.no/matrix/{jid}/", ""]
        con.close()
    out = Path(args.out)
    out.write_text("\n".join(lines))
    print(f"wrote {len(chosen)} matrices to {out} ({out.stat().st_size} bytes, sha256 "
          f"{hashlib.sha256(out.read_bytes()).hexdigest()})", file=sys.stderr)


if __name__ == "__main__":
    main()
