"""What the feedback pages and the class report share: a strict page shell, escaping, sanitising, figures.

Every page is one self-contained HTML file: no script at all, figures embedded as base64
PNG, and a Content-Security-Policy (``default-src 'none'; img-src data:; style-src
'unsafe-inline'``) that forbids any script, frame, form, font or network request even if
something slipped past the sanitiser.  The instructor's review pages
(:mod:`workshop_utils.grading.review`) carry one script of the package's own, and their CSP
allows that script alone, by its sha256 (:func:`script_csp`).  Whatever a student wrote or printed is untrusted:
text is escaped with :func:`html.escape`; HTML a notebook displayed goes through ``nh3``
(the Rust ``ammonia`` sanitiser) with a short list of allowed tags and no ``img``, ``svg``,
``style``, ``script``, event attribute or ``javascript:`` URL; PNG and JPEG outputs are
re-encoded only after their bytes are checked.
"""
from __future__ import annotations

import base64
import hashlib
import html
import io
import re
from typing import Any

#: The page's Content-Security-Policy: no script, no network, images only from data: URLs.
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
#: Tags kept in HTML a notebook displayed (pandas tables, emphasis, lists): nothing that loads or runs.
OUTPUT_TAGS = {"a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd", "del", "div", "dl",
               "dt", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "ins", "kbd", "li", "mark", "ol", "p", "pre",
               "q", "s", "samp", "small", "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th",
               "thead", "tr", "u", "ul", "var"}
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_PNG = b"\x89PNG\r\n\x1a\n"
_JPEG = b"\xff\xd8\xff"

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1100px;margin:1.5em auto;padding:0 1em;
color:#222;line-height:1.4}
h1{font-size:1.5em}h2{font-size:1.2em;border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.25em .5em;vertical-align:top;
text-align:left}th{background:#f3f3f3}.pass{color:#176b17;font-weight:bold}.fail{color:#b00020;font-weight:bold}
.skip{color:#777}.muted{color:#666}.hint{color:#444;font-style:italic}.status{padding:.5em;border-radius:4px;
background:#fff4e5}.ok{background:#e8f5e9}pre{background:#f7f7f7;padding:.4em;overflow-x:auto;white-space:pre-wrap;
word-break:break-word;max-height:40em;overflow-y:auto}.cell{border-left:3px solid #ccc;margin:.8em 0;padding-left:.6em}
.out{border-left:3px solid #e0c080}.measured{background:#eef4ff;padding:.2em .4em}img.fig{max-width:100%}
"""


def esc(x: Any) -> str:
    """``x`` as text, HTML-escaped (quotes too), control characters dropped."""
    s = _ANSI.sub("", str(x))
    s = "".join(ch for ch in s if ch in "\n\t" or ch.isprintable())
    return html.escape(s, quote=True)


def sanitize_html(fragment: str) -> str:
    """HTML a notebook displayed, with everything that could run or load removed (``nh3``).

    Only :data:`OUTPUT_TAGS` survive; ``<script>``, ``<style>``, ``<svg>``, ``<iframe>``,
    ``<img>``, event attributes (``onerror=``...) and ``javascript:``/``data:`` URLs are
    removed; links get ``rel="noopener noreferrer nofollow"``.
    """
    import nh3

    if not isinstance(fragment, str):
        fragment = str(fragment)
    attrs = {"a": {"href", "title"}, "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan", "scope"},
             "ol": {"start"}}
    return nh3.clean(fragment, tags=OUTPUT_TAGS, attributes=attrs, url_schemes={"http", "https", "mailto"},
                     link_rel="noopener noreferrer nofollow", strip_comments=True,
                     clean_content_tags={"script", "style", "svg", "math", "iframe", "object", "embed", "template",
                                         "noscript", "textarea", "select", "title"})


def image_tag(data: bytes, alt: str = "figure", max_bytes: int = 2_000_000) -> str:
    """An ``<img>`` of PNG or JPEG bytes as a data URL; '' when the bytes are neither or too large."""
    if not isinstance(data, (bytes, bytearray)) or len(data) > max_bytes:
        return ""
    if data.startswith(_PNG):
        mime = "image/png"
    elif data.startswith(_JPEG):
        mime = "image/jpeg"
    else:
        return ""
    return f'<img class="fig" alt="{esc(alt)}" src="data:{mime};base64,{base64.b64encode(bytes(data)).decode()}">'


def figure_png(fig: Any, dpi: int = 80) -> bytes:
    """A matplotlib figure as PNG bytes; the figure is closed."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    finally:
        plt.close(fig)
    return buf.getvalue()


def pyplot():
    """matplotlib's pyplot on the Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def script_csp(script: str) -> str:
    """:data:`CSP` that also lets run exactly ``script`` (an inline script, by its sha256) and nothing else.

    Event attributes (``onerror=``...), ``javascript:`` URLs and every other script stay
    forbidden: whatever slipped past the escaping cannot run.
    """
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    return f"{CSP}; script-src 'sha256-{digest}'"


def page(title: str, body: str, style: str = "", script: str = "") -> str:
    """A complete page: the CSP meta tag first, inline style (:data:`STYLE`, then ``style``), no script.

    ``style`` and ``script`` are the package's own constants, never student text: with a
    ``script``, it is appended to the body and the CSP allows that script alone (:func:`script_csp`).
    """
    csp = script_csp(script) if script else CSP
    tail = f"\n<script>{script}</script>" if script else ""
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta http-equiv=\"Content-Security-Policy\" content=\"{csp}\">"
            "<meta name=\"referrer\" content=\"no-referrer\">"
            f"<meta name=\"viewport\" content=\"width=device-width\"><title>{esc(title)}</title>"
            f"<style>{STYLE}{style}</style></head>\n<body>\n{body}{tail}\n</body></html>\n")


# ------------------------------------------------------------------ a notebook, rendered safely
MAX_CELL_CHARS = 20_000   # characters of one cell's source or one output shown
MAX_OUTPUTS = 20          # outputs shown per cell
MAX_CELLS = 400
#: How the cells the grader appends to a submission begin (they are not shown).
GRADER_CELL = "import workshop_utils.grading.export as _wu_grading_export"


def _text(x: Any) -> str:
    return "".join(x) if isinstance(x, list) else str(x or "")


def cap_text(s: str, n: int = MAX_CELL_CHARS) -> str:
    """``s``, cut at ``n`` characters with a line saying how many were left out."""
    return s if len(s) <= n else s[:n] + f"\n... ({len(s) - n:,} more characters not shown)"


def render_output(out: dict) -> str:
    """One output of a code cell as safe HTML."""
    kind = out.get("output_type")
    if kind == "stream":
        return f"<pre class=\"out\">{esc(cap_text(_text(out.get('text'))))}</pre>"
    if kind == "error":
        tb = "\n".join(_text(t) for t in (out.get("traceback") or [])[:60])
        return (f"<pre class=\"out fail\">{esc(cap_text(tb or (str(out.get('ename')) + ': ' + str(out.get('evalue')))))}"
                "</pre>")
    if kind in ("execute_result", "display_data"):
        data = out.get("data") or {}
        for mime in ("image/png", "image/jpeg"):
            if mime in data:
                try:
                    raw = base64.b64decode(_text(data[mime]).replace("\n", ""), validate=True)
                except (ValueError, TypeError):
                    raw = b""
                tag = image_tag(raw, "output image")
                if tag:
                    return f"<div class=\"out\">{tag}</div>"
        if "text/html" in data:
            return f"<div class=\"out\">{sanitize_html(cap_text(_text(data['text/html'])))}</div>"
        if "text/markdown" in data:
            return f"<pre class=\"out\">{esc(cap_text(_text(data['text/markdown'])))}</pre>"
        if "text/plain" in data:
            return f"<pre class=\"out\">{esc(cap_text(_text(data['text/plain'])))}</pre>"
        other = ", ".join(sorted(str(k) for k in data))[:200]
        return f"<p class=\"muted out\">[an output of type {esc(other)} is not shown]</p>"
    return ""


def render_notebook(nb: Any) -> str:
    """An executed notebook (dict, or ``.ipynb`` bytes/str) as safe HTML: code, outputs, markdown as text.

    Markdown cells are shown as escaped text (a student's markdown may hold HTML); outputs
    go through :func:`render_output`.
    """
    import json

    if isinstance(nb, (bytes, bytearray)):
        nb = bytes(nb).decode("utf-8", "replace")
    if isinstance(nb, str):
        try:
            nb = json.loads(nb)
        except ValueError:
            return "<p class=\"muted\">The executed notebook could not be read.</p>"
    cells = nb.get("cells") if isinstance(nb, dict) else None
    if not isinstance(cells, list):
        return "<p class=\"muted\">The executed notebook could not be read.</p>"
    parts, n_code = [], 0
    for cell in cells[:MAX_CELLS]:
        if not isinstance(cell, dict):
            continue
        src = cap_text(_text(cell.get("source")))
        if cell.get("cell_type") == "code":
            if src.startswith(GRADER_CELL):  # the export cells the grader appended
                continue
            n_code += 1
            outs = [o for o in (cell.get("outputs") or []) if isinstance(o, dict)]
            body = "".join(render_output(o) for o in outs[:MAX_OUTPUTS])
            if len(outs) > MAX_OUTPUTS:
                body += f"<p class=\"muted\">({len(outs) - MAX_OUTPUTS} more outputs not shown)</p>"
            parts.append(f"<div class=\"cell\"><div class=\"muted\">cell {n_code}</div>"
                         f"<pre>{esc(src)}</pre>{body}</div>")
        elif cell.get("cell_type") == "markdown" and src.strip():
            parts.append(f"<div class=\"cell muted\"><pre>{esc(src)}</pre></div>")
    if len(cells) > MAX_CELLS:
        parts.append(f"<p class=\"muted\">({len(cells) - MAX_CELLS} more cells not shown)</p>")
    return "\n".join(parts)
