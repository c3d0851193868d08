"""The runner's notebook client: nbclient's ``NotebookClient`` that keeps capped outputs and records time-outs.

Only the runner's worker imports this module, inside the sandbox, when it runs a notebook
(:func:`workshop_utils.grading.runner.run_job`): it imports nbclient and nbformat at top level,
which the runner's PID 1 and the grader never load.  The caps are the runner's
(:data:`~workshop_utils.grading.runner.CELL_TEXT_BYTES`, ``IMAGE_BYTES``, ``EXECUTED_BYTES``,
``KEPT_MIMES``); the runner passes them in.
"""
from __future__ import annotations

import json

import nbformat
from nbclient import NotebookClient

#: The notice that replaces a cell's outputs beyond its cap.
NOT_KEPT = "[grader: further output of this cell not kept]\n"


def output_size(out: dict) -> tuple[int, int]:
    """``(text bytes, largest image bytes)`` of one notebook output (a stream, display or result)."""
    if out.get("output_type") == "stream":
        return len(out.get("text", "")), 0
    text = image = 0
    for mime, v in (out.get("data") or {}).items():
        n = len(v) if isinstance(v, str) else len(json.dumps(v))
        if mime.startswith("image/"):
            image = max(image, n)
        else:
            text += n
    return text, image


class QuietClient(NotebookClient):
    """Keeps capped outputs (a submission may print gigabytes) and records every time-out.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The notebook to run.
    cell_text_bytes, image_bytes, executed_bytes : int
        Most text bytes kept per cell, bytes of one image, bytes of all kept outputs.
    kept_mimes : tuple of str
        MIME types kept of a display or result (the others are dropped).
    **kw
        ``NotebookClient``'s options (``km``, ``kernel_name``, ``timeout`` ...).

    Attributes
    ----------
    timed_out : bool
        Whether a cell ran out of time since the caller last reset it (nbclient's ``TimeLimit``
        reply never reaches the cell's outputs).
    """

    def __init__(self, nb, *, cell_text_bytes: int, image_bytes: int, executed_bytes: int,
                 kept_mimes: tuple[str, ...], **kw):
        super().__init__(nb, **kw)
        self.caps = (int(cell_text_bytes), int(image_bytes), int(executed_bytes))
        self.kept_mimes = tuple(kept_mimes)
        self.timed_out = False
        self.text_used: dict[int, int] = {}
        self.total_used = 0

    async def _async_handle_timeout(self, timeout, cell=None):
        self.timed_out = True  # nbclient's TimeLimit reply never reaches the cell's outputs
        return await super()._async_handle_timeout(timeout, cell)

    def output(self, outs, msg, display_id, cell_index):
        """nbclient's hook for one output message: keep it (capped), keep an error short, or drop it."""
        kind = msg.get("msg_type")
        if kind == "error":
            if len(outs) < 8:
                c = msg.get("content", {})
                tb = "\n".join(str(x) for x in (c.get("traceback") or []))[-4000:]
                outs.append(nbformat.v4.new_output("error", ename=str(c.get("ename", ""))[:100],
                                                   evalue=str(c.get("evalue", ""))[:300], traceback=[tb]))
            return None
        if kind not in ("stream", "display_data", "execute_result"):
            return None
        try:
            out = nbformat.v4.output_from_msg(msg)
        except ValueError:
            return None
        if "data" in out:
            out["data"] = {k: v for k, v in out["data"].items() if k in self.kept_mimes}
            out.pop("metadata", None)
        cell_cap, image_cap, total_cap = self.caps
        text, image = output_size(out)
        used = self.text_used.get(cell_index, 0)
        if used + text > cell_cap or image > image_cap or self.total_used + text + image > total_cap:
            if used <= cell_cap:
                outs.append(nbformat.v4.new_output("stream", name="stderr", text=NOT_KEPT))
                self.text_used[cell_index] = cell_cap + 1
            return None
        self.text_used[cell_index] = used + text
        self.total_used += text + image
        outs.append(out)
        return out
