"""The pages' shell (``grading/pages.py``): the sanitiser, and the pages in a real headless Chromium.

In Chromium (selenium), the feedback page and the class report: no script runs, they render.

Every injected payload (``<script>``, ``<img onerror>``, ``javascript:`` links, SVG with
script, raw HTML displayed through ``IPython.display.HTML``, a student id that is a script)
tries to set ``document.title``, a ``window.pwned`` variable or open an ``alert``; the test
loads the page from a ``file://`` URL, waits, and asserts that none of that happened, then
takes a screenshot and checks it is a real, non-blank PNG.  Skipped only when Chromium or
its driver is missing (``.ci/run`` installs Debian's ``chromium`` and ``chromium-driver``).
"""
from __future__ import annotations

import base64
import hashlib
import re
import shutil
import struct
import time
import zlib

import pytest

from _grading_kit import INJECTION, hidden_file, make_class_store
from _html_kit import EXECUTABLE, hostile_notebook
from workshop_utils.grading.feedback import load_values, write_feedback
from workshop_utils.grading.pages import CSP, cap_text, esc, page, render_notebook, sanitize_html, script_csp
from workshop_utils.grading.report import write_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
DRIVER = shutil.which("chromedriver")


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium; the browser tests are skipped only when Chromium or its driver is missing."""
    if not (CHROMIUM and DRIVER):
        pytest.skip("needs Chromium and chromedriver (apt-get install chromium chromium-driver)")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1200,1600", "--allow-file-access-from-files"):
        opts.add_argument(arg)
    drv = webdriver.Chrome(service=Service(DRIVER), options=opts)
    drv.set_page_load_timeout(60)
    yield drv
    drv.quit()


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def _not_blank(data: bytes) -> bool:
    """True when the PNG's pixel data is not one flat colour (decompressed IDAT bytes vary)."""
    idat, pos = b"", 8
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"IDAT":
            idat += data[pos + 8:pos + 8 + n]
        pos += 12 + n
    raw = zlib.decompress(idat)
    return len(set(raw[:: max(1, len(raw) // 20000)])) > 8


def _open_and_check(browser, path, tmp_path, title_words: str) -> None:
    from selenium.common.exceptions import NoAlertPresentException

    browser.get(path.resolve().as_uri())
    time.sleep(1.5)  # give an onerror / onload handler time to fire
    try:
        alert = browser.switch_to.alert
        text = alert.text
        alert.dismiss()
        pytest.fail(f"an alert opened: {text!r}")
    except NoAlertPresentException:
        pass
    assert "pwned" not in browser.title and title_words in browser.title
    # Our own probe script runs through the driver (not the page): the page's scripts would have set these.
    assert browser.execute_script("return typeof window.pwned") == "undefined"
    assert browser.execute_script("return document.scripts.length") == 0
    assert browser.execute_script("return document.querySelectorAll('[onerror],[onload],[onclick]').length") == 0
    assert browser.execute_script(
        "return Array.from(document.links).filter(a => a.href.startsWith('javascript:')).length") == 0
    shot = tmp_path / f"{path.stem}.png"
    assert browser.save_screenshot(str(shot))
    data = shot.read_bytes()
    w, h = _png_size(data)
    assert w >= 800 and h >= 800 and len(data) > 20_000 and _not_blank(data)


def test_no_script_runs_in_the_feedback_page(browser, tmp_path):
    graded = make_class_store(tmp_path, hidden_file(tmp_path / "hidden.py", 0.75))
    sid = '<script>alert("id")</script>'
    rec = {**graded["records"][sid], "student": sid}
    html, _ = write_feedback(tmp_path / "fb", rec, load_values(1, graded["folders"][sid]), graded["ref"]["probe"],
                             hostile_notebook())
    _open_and_check(browser, html, tmp_path, "Day 1 feedback")
    body = browser.find_element("tag name", "body").text
    assert "Practice 1" in body and "sequences you never saw" in body and '<script>alert("id")</script>' in body
    assert len(browser.find_elements("css selector", "img.fig")) >= 2  # the ROC figure and the student's PNG


def test_no_script_runs_in_the_class_report(browser, tmp_path):
    graded = make_class_store(tmp_path, hidden_file(tmp_path / "hidden.py", 0.75))
    out = write_report(tmp_path / "class.html", graded["csv"], store=graded["store"])
    _open_and_check(browser, out, tmp_path, "class report")
    body = browser.find_element("tag name", "body").text
    assert "Pass rate of every check" in body and "Similar submissions" in body


def test_the_harness_sees_a_script_that_runs(browser, tmp_path):
    """The same checks on an unsanitised page fail: the browser does run scripts, so the tests above can fail."""
    from _grading_kit import INJECTION

    bad = tmp_path / "unsanitised.html"
    bad.write_text(f"<!DOCTYPE html><html><head><title>Day 1 feedback</title></head><body>{INJECTION}</body></html>")
    with pytest.raises((AssertionError, pytest.fail.Exception)):
        _open_and_check(browser, bad, tmp_path, "Day 1 feedback")


# ----------------------------------------------------------------------------- the sanitiser
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
    assert re.search(r"script-src[^;\"]*(unsafe|\*|http|data:)", with_js) is None
