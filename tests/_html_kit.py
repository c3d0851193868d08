"""What the tests of the grader's HTML pages share: a parser that finds what a browser could run, a hostile notebook.

The feedback pages (``grading/feedback.py``), the class report (``grading/report.py``) and their
shared shell (``grading/pages.py``) must contain nothing a browser runs or loads.
"""
from __future__ import annotations

import base64
from html.parser import HTMLParser

from _grading_kit import INJECTION

FORBIDDEN_TAGS = {"script", "svg", "iframe", "object", "embed", "style", "link", "math", "form", "frame",
                  "base", "template", "noscript"}


class _Tags(HTMLParser):
    """Collects what a browser would parse as executable: tags, event attributes, script URLs."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.bad: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in FORBIDDEN_TAGS and not (tag == "style" and self.getpos()[0] <= 2):  # the page's own <style>
            self.bad.append(f"<{tag}>")
        if tag == "meta" and not any(k in ("charset", "name") or v == "Content-Security-Policy" for k, v in attrs):
            self.bad.append("<meta>")
        for k, v in attrs:
            if k.startswith("on"):
                self.bad.append(f"{tag} {k}=")
            if k in ("href", "src", "action", "formaction", "xlink:href", "style") and v and (
                    "javascript:" in v.lower().replace(" ", "") or (k == "src" and not v.startswith("data:image/"))):
                self.bad.append(f"{tag} {k}={v[:40]}")


def executable_bits(html: str) -> list[str]:
    """What in ``html`` a browser could run or load (empty: nothing)."""
    p = _Tags()
    p.feed(html)
    return p.bad


class _Exec:
    @staticmethod
    def search(html):
        return executable_bits(html)


EXECUTABLE = _Exec()


def hostile_notebook() -> dict:
    """An executed notebook whose outputs try everything a feedback page must not run."""
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(64)).decode()
    svg = '<svg xmlns="http://www.w3.org/2000/svg"><script>window.pwned=1</script></svg>'
    outs = [
        {"output_type": "stream", "name": "stdout", "text": INJECTION},
        {"output_type": "display_data", "data": {"text/html": INJECTION + "<b>bold stays</b><table><tr><td>1</td>"
                                                 "</tr></table>", "text/plain": "x"}, "metadata": {}},
        {"output_type": "display_data", "data": {"image/svg+xml": svg}, "metadata": {}},
        {"output_type": "display_data", "data": {"image/png": png}, "metadata": {}},
        {"output_type": "display_data", "data": {"image/png": "PHNjcmlwdD4="}, "metadata": {}},  # not a PNG
        {"output_type": "execute_result", "data": {"text/html": '<iframe src="javascript:alert(1)"></iframe>'
                                                   '<math><mi xlink:href="javascript:alert(1)">x</mi></math>'
                                                   '<form action="javascript:alert(1)"><button>go</button></form>'
                                                   '<div style="background:url(javascript:alert(1))">s</div>'},
         "metadata": {}, "execution_count": 1},
        {"output_type": "error", "ename": "ValueError", "evalue": INJECTION,
         "traceback": ["\x1b[31mValueError\x1b[0m: " + INJECTION]},
    ]
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "markdown", "metadata": {}, "source": INJECTION},
        {"cell_type": "code", "metadata": {}, "source": "from IPython.display import HTML\nHTML('" + INJECTION + "')",
         "outputs": outs, "execution_count": 1},
        {"cell_type": "code", "metadata": {}, "source": "import workshop_utils.grading.export as _wu_grading_export\n",
         "outputs": [], "execution_count": 2}]}
