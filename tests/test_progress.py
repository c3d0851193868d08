"""The package's one progress bar: its saved notebook output is its final state."""
import sys

import nbformat
import pytest

from workshop_utils import _progress

CELL = """
import time
from workshop_utils._progress import progress
bar = progress(range(5), desc="epochs")
for i in bar:
    bar.set_postfix(loss=f"{1 / (i + 1):.3f}")
    time.sleep(0.05)
for i in progress(range(3), desc="inner", leave=False):
    pass
print("done")
"""


def test_outside_a_kernel_the_bar_is_text_on_stdout(capsys):
    assert not _progress.in_kernel()
    for _ in _progress.progress(range(3), desc="x", mininterval=0):
        pass
    out = capsys.readouterr()
    assert "3/3" in out.out.split("\r")[-1] and out.err == ""


def test_display_line_keeps_the_last_redraw_and_clears_on_leave_false(monkeypatch):
    shown = []
    line = _progress.DisplayLine()
    monkeypatch.setattr(line, "_show", shown.append)
    line.write("\rx:   0%|    | 0/2")
    line.write("\rx:  50%|##  | 1/2   ")
    line.write("\n")                       # leave=True closes with a newline: the line stays
    assert shown == ["x:   0%|    | 0/2", "x:  50%|##  | 1/2"]
    line.write("\r" + " " * 20 + "\r")     # leave=False blanks it
    assert shown[-1] == ""


@pytest.mark.parametrize("html", [False, True])
def test_a_bar_in_an_executed_notebook_is_saved_as_its_final_line(tmp_path, monkeypatch, html):
    from nbclient import NotebookClient

    monkeypatch.delenv("PYTEST_CURRENT_TEST", raising=False)   # the kernel must behave as in class
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(CELL)]
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = nb.cells[0].outputs
    texts = [o.get("text", "") if o.output_type == "stream" else o.get("data", {}).get("text/plain", "")
             for o in outputs]
    assert [o.output_type for o in outputs] == ["display_data", "display_data", "stream"], outputs
    assert texts[0].startswith("epochs: 100%|") and "5/5" in texts[0] and "loss=0.200" in texts[0], texts
    assert texts[1] == "" and texts[2] == "done\n", texts           # leave=False: the inner bar leaves nothing
    assert not any(o.output_type == "stream" and o.name == "stderr" for o in outputs)
    if html:
        from nbconvert import HTMLExporter

        body, _ = HTMLExporter().from_notebook_node(nb)
        assert body.count("5/5") == 1 and "0/5" not in body and "| 0/" not in body
