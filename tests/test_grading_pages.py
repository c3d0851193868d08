"""The page shell every grading page shares: escaping, the HTML sanitiser, a notebook rendered safely, and the
Content-Security-Policy (no script; a review page's own script allowed alone, by its hash).

In a real browser: test_pages_browser.py (feedback and report) and test_grading_review.py (review pages).
"""
from __future__ import annotations

import base64
import hashlib
import re

from _grading_kit import INJECTION
from test_feedback import EXECUTABLE, hostile_notebook
from workshop_utils.grading.pages import CSP, cap_text, esc, page, render_notebook, sanitize_html, script_csp


def test_sanitize_removes_everything_executable():
    out = sanitize_html(INJECTION + '<a href="https://example.org">ok</a><b>b</b>')
    assert not EXECUTABLE.search(out)
    assert "<b>b</b>" in out and 'href="https://example.org"' in out and "noopener" in out


def test_rendered_notebook_has_nothing_executable_and_keeps_the_text():
    html = render_notebook(hostile_notebook())
    assert not EXECUTABLE.search(html)
    assert "&lt;script&gt;" in html  # printed text is shown, escaped
    assert "<b>bold stays</b>" in html and "<td>1</td>" in html
    assert html.count("data:image/png;base64,") == 1  # the real PNG only
    assert "_wu_grading_export" not in html  # the grader's own cells are not shown
    assert render_notebook(b"not json").startswith("<p")




def test_esc_and_cap_text():
    assert esc('<a href="x">\x1b[31mred\x07') == "&lt;a href=&quot;x&quot;&gt;red"
    assert cap_text("abc", 5) == "abc" and cap_text("x" * 12, 5) == "xxxxx\n... (7 more characters not shown)"


def test_a_page_has_no_script_unless_the_package_gives_it_one_by_hash():
    plain = page("t", "<p>body</p>")
    assert f'content="{CSP}"' in plain and "<script" not in plain and "script-src" not in plain
    js = "document.title = 'ours';"
    with_js = page("t", "<p>body</p>", script=js)
    digest = base64.b64encode(hashlib.sha256(js.encode()).digest()).decode()
    assert script_csp(js) == f"{CSP}; script-src 'sha256-{digest}'"
    assert f'content="{script_csp(js)}"' in with_js and with_js.count("<script>") == 1
    assert with_js.index("<script>") > with_js.index("<p>body</p>")  # after the body's text
    assert re.search(r"script-src[^;\"]*(unsafe|\*|http|data:)", with_js) is None  # only the hash
