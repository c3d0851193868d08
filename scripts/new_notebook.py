"""Create a notebook with the workbook's standard first cells (badge + setup).

    python scripts/new_notebook.py notebooks/day2_05_topic.ipynb "Title of the lesson"

Every notebook starts the same way: a title with an "Open in Colab" badge, then a
setup cell that, only in Colab, clones the workbook and installs the few packages
Colab lacks, and then calls ``workshop_utils.setup()``.  tests/test_notebook_conventions.py
compares every notebook's setup cell with
``workshop_utils.config.setup_cell_source()``, the single definition of it.
"""
from __future__ import annotations

import sys
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from workshop_utils.config import REPO_SLUG, setup_cell_source  # noqa: E402


def header_cells(path: str, title: str) -> list:
    """The title cell (with the Colab badge of ``path``) and the setup cell."""
    badge = (f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
             f"(https://colab.research.google.com/github/{REPO_SLUG}/blob/main/{path})")
    setup = setup_cell_source()
    return [nbformat.v4.new_markdown_cell(f"# {title}\n\n{badge}"), nbformat.v4.new_code_cell(setup)]


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    path, title = sys.argv[1], sys.argv[2]
    nb = nbformat.v4.new_notebook()
    nb.cells = header_cells(path, title)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
