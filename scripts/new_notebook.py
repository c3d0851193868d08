"""Create a notebook with the workbook's standard first cells (badge + setup).

    python scripts/new_notebook.py notebooks/day2_05_topic.ipynb "Title of the lesson"

Every notebook starts the same way: a title with an "Open in Colab" badge, then a
setup cell that, only in Colab, clones the workbook and installs the few packages
Colab lacks, and then calls ``workshop_utils.setup()``.  tests/test_notebook_conventions.py
checks this for every notebook.
"""
from __future__ import annotations

import sys
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from workshop_utils.config import REPO_SLUG, REPO_URL  # noqa: E402

COLAB_PACKAGES = "keras-tuner==1.4.8 six logomaker captum shap"


def header_cells(path: str, title: str) -> list:
    badge = (f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
             f"(https://colab.research.google.com/github/{REPO_SLUG}/blob/main/{path})")
    setup = f'''# Setup. In Colab: fetch the workbook and the few packages Colab lacks (once per runtime).
# Locally, `make workshop` / `make test` already built .venv with everything pinned.
import sys
if "google.colab" in sys.modules:
    !test -d /content/workbook || git clone -q --depth 1 {REPO_URL} /content/workbook
    !pip install -q {COLAB_PACKAGES}
    sys.path.insert(0, "/content/workbook")

import workshop_utils as wu
info = wu.setup(seed=42)  # seeds, plot style, quick/full mode (defined in workshop_utils/config.py)'''
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
