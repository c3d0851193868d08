"""Single-cell expression files (workshop_utils.expression_data): PBMC and any AnnData .h5ad."""
import h5py
import numpy as np
import pytest

from workshop_utils.expression_data import UNKNOWN, load_pbmc, read_h5ad


def test_pbmc_real_data():
    pbmc = load_pbmc()
    assert pbmc.X.shape == (700, 765)
    assert len(pbmc.cell_types) == 10 and "CD19+ B" in pbmc.cell_types
    assert pbmc.X.min() >= 0  # log-normalised expression
    assert "MS4A1" in pbmc.genes or "CD79A" in pbmc.genes or len(pbmc.genes) == 765
    assert pbmc.label_codes().max() == 9


def test_read_h5ad_current_anndata_layout(tmp_path):
    p = tmp_path / "new.h5ad"
    with h5py.File(p, "w") as f:
        f["X"] = np.arange(6, dtype=np.float32).reshape(3, 2)
        obs = f.create_group("obs")
        obs.attrs["_index"] = "_index"
        obs["_index"] = np.array([b"c1", b"c2", b"c3"])
        cell = obs.create_group("cell_type")
        cell["codes"] = np.array([0, 1, 0], dtype=np.int8)
        cell["categories"] = np.array([b"B", b"T"])
        var = f.create_group("var")
        var.attrs["_index"] = "_index"
        var["_index"] = np.array([b"G1", b"G2"])
    e = read_h5ad(p, label_key="cell_type")
    assert e.labels.tolist() == ["B", "T", "B"] and e.genes == ["G1", "G2"]
    with pytest.raises(ValueError, match=r"read_h5ad: label_key must be a column of obs in .*new.h5ad, got 'bulk_labels'; columns are \['_index', 'cell_type'\]"):
        read_h5ad(p)


def _h5ad(path, codes, categories=(b"B", b"T"), obs=True, var=True):
    """A minimal current-layout AnnData file with 3 cells and 2 genes."""
    with h5py.File(path, "w") as f:
        f["X"] = np.arange(6, dtype=np.float32).reshape(3, 2)
        if obs:
            grp = f.create_group("obs")
            grp.attrs["_index"] = "_index"
            grp["_index"] = np.array([b"c1", b"c2", b"c3"])
            cell = grp.create_group("cell_type")
            cell["codes"] = np.array(codes, dtype=np.int8)
            cell["categories"] = np.array(categories)
        if var:
            grp = f.create_group("var")
            grp.attrs["_index"] = "_index"
            grp["_index"] = np.array([b"G1", b"G2"])
    return path


def test_unannotated_cells_are_unknown_with_a_warning(tmp_path):
    p = _h5ad(tmp_path / "a.h5ad", [0, -1, 1])
    with pytest.warns(UserWarning, match=r"1 cell\(s\) have no 'cell_type' \(code -1\)"):
        e = read_h5ad(p, label_key="cell_type")
    assert e.labels.tolist() == ["B", UNKNOWN, "T"]  # not the last category


def test_out_of_range_codes_missing_tables_and_folders_are_clear_errors(tmp_path):
    p = _h5ad(tmp_path / "a.h5ad", [0, 2, 1])
    with pytest.raises(ValueError, match=r"read_h5ad: .*a.h5ad: obs column 'cell_type' must hold codes in \[-1, 1\].*code 2 at cell 1"):
        read_h5ad(p, label_key="cell_type")
    p = _h5ad(tmp_path / "b.h5ad", [0, 1, 1], obs=False)
    with pytest.raises(ValueError, match=r"read_h5ad: .*b.h5ad must be an AnnData file with 'obs'"):
        read_h5ad(p, label_key="cell_type")
    p = _h5ad(tmp_path / "c.h5ad", [0, 1, 1], var=False)
    with pytest.raises(ValueError, match=r"c.h5ad must be an AnnData file with 'var'"):
        read_h5ad(p, label_key="cell_type")
    with pytest.raises(IsADirectoryError, match="read_h5ad: path must be a file.*is a directory, not a file"):
        read_h5ad(tmp_path)
    with pytest.raises(FileNotFoundError, match="read_h5ad: path must be an existing file.*no such file"):
        read_h5ad(tmp_path / "missing.h5ad")


# --------------------------------------------------------------------------- simulate_gene_programs
def test_simulated_programs_shapes_types_and_determinism():
    from workshop_utils.expression_data import ProgramExpression, simulate_gene_programs

    d = simulate_gene_programs(n_cells=800, n_genes=100, n_programs=6, genes_per_program=10, seed=3)
    assert isinstance(d, ProgramExpression)
    assert d.X.shape == (800, 100) and d.X.dtype == np.float32 and d.X.min() >= 0   # log1p of counts
    assert d.activities.shape == (800, 6) and d.gene_program.shape == (100,)
    assert len(d.genes) == len(set(d.genes)) == 100
    assert d.cell_types == [f"type{k}" for k in range(8)] and d.labels.shape == (800,)
    assert np.bincount(d.label_codes()).min() > 60          # 8 balanced types, ~100 each
    assert (d.gene_program == -1).sum() == 40 and np.bincount(d.gene_program[d.gene_program >= 0]).tolist() == [10] * 6
    again = simulate_gene_programs(n_cells=800, n_genes=100, n_programs=6, genes_per_program=10, seed=3)
    assert np.array_equal(d.X, again.X) and d.genes == again.genes
    assert not np.array_equal(d.X, simulate_gene_programs(800, 100, 6, 10, seed=4).X)


def test_simulated_types_are_xor_rules_of_the_programs():
    from workshop_utils.expression_data import simulate_gene_programs

    d = simulate_gene_programs(n_cells=3000, n_genes=60, n_programs=4, genes_per_program=15, loading=1.0, seed=0)
    on = d.activities > 0
    assert np.array_equal(d.label_codes(), (on[:, 0] ^ on[:, 1]) + 2 * (on[:, 2] ^ on[:, 3]))
    # program genes follow their program's activity; nuisance genes follow none
    corr = np.corrcoef(np.c_[d.X, d.activities].T)[:60, 60:]
    for g, p in enumerate(d.gene_program):
        if p >= 0:
            assert abs(corr[g, p]) > 0.3 and abs(np.delete(corr[g], p)).max() < 0.1, d.genes[g]
        else:
            assert abs(corr[g]).max() < 0.1, d.genes[g]
    # each program alone says nothing about the type: the rule is nonlinear
    codes = d.label_codes()
    for p in range(4):
        rates = [np.mean(on[codes == k, p]) for k in range(4)]
        assert max(rates) - min(rates) < 0.1, rates


def test_simulated_programs_validation():
    from workshop_utils.expression_data import simulate_gene_programs

    with pytest.raises(ValueError, match="simulate_gene_programs: n_programs must be an even number"):
        simulate_gene_programs(n_programs=3)
    with pytest.raises(ValueError,
                       match=r"simulate_gene_programs: n_genes must be >= n_programs \* genes_per_program = 90"):
        simulate_gene_programs(n_genes=50, genes_per_program=15)
    with pytest.raises(ValueError, match="simulate_gene_programs: n_cells must be an integer >= 2, got 1"):
        simulate_gene_programs(n_cells=1)
    with pytest.raises(ValueError, match="simulate_gene_programs: loading must be a finite number > 0.0"):
        simulate_gene_programs(loading=0)
    with pytest.raises(TypeError, match="simulate_gene_programs: seed"):
        simulate_gene_programs(seed="a")
