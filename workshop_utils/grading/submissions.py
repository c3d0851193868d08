"""Finding the submissions of a folder (``workshop-grade SUBMISSIONS``): one id per notebook, nothing lost.

The rules (:func:`scan_submissions`):

* a notebook is a regular file whose name ends in ``.ipynb`` in any case (``.IPYNB``);
* a notebook at the top gives the id of its name without the extension; a top-level folder
  is one student (a course website's download): its notebooks are looked for in it and its
  sub-folders (up to :data:`MAX_DEPTH` levels); one notebook gives the folder's id, several
  give ``folder/sub/file`` ids;
* ids are the names normalised (Unicode NFC, surrounding white space trimmed,
  :func:`~workshop_utils.grading.csvlog.student_id`); when two notebooks would get one id (a
  file ``alice.ipynb`` beside a folder ``alice/``, or ``alice`` beside ``alice ``), each of
  them gets its exact path instead (``alice.ipynb``, ``alice/hw.ipynb``), and the CSV's
  ``name_note`` says so; names that only look alike (Cyrillic letters for Latin ones, case)
  keep their ids and are flagged in ``name_note``;
* a symbolic link is followed only when its target lies inside the submissions folder; a
  link out of it, a broken one, or a notebook that is not a regular file gets a row that
  says why it was not graded (:attr:`Scan.refused`);
* everything else that is skipped (hidden files, ``.ipynb_checkpoints``, files that are not
  notebooks, folders without notebooks) is listed with its reason (:attr:`Scan.skipped`).
"""
from __future__ import annotations

import dataclasses
import os
import unicodedata
from pathlib import Path

from .csvlog import exact_id, name_changes, student_id

#: How deep a student's folder is searched for notebooks.
MAX_DEPTH = 6
#: Latin look-alikes of Cyrillic and Greek letters (for flagging names that only look the same).
HOMOGLYPHS = str.maketrans("аеорсухіјѕԁɡАВЕКМНОРСТХІЈЅαβεικνορτυχΑΒΕΖΗΙΚΜΝΟΡΤΥΧ",
                           "aeopcyxijsdgABEKMHOPCTXIJSabeiknoptyxABEZHIKMNOPTYX")


@dataclasses.dataclass
class Scan:
    """What :func:`scan_submissions` found.

    Attributes
    ----------
    found : dict
        ``{student id: notebook path}`` of the notebooks to grade.
    refused : dict
        ``{student id: (path, reason)}``: looked like a submission, cannot be graded (a link
        out of the folder...); each gets a row with the reason as its status.
    notes : dict
        ``{student id: note}`` for the CSV's ``name_note`` (normalised, clashing or look-alike names).
    skipped : list
        ``(path, reason)`` of everything else that was left out.
    """

    found: dict[str, Path] = dataclasses.field(default_factory=dict)
    refused: dict[str, tuple[Path, str]] = dataclasses.field(default_factory=dict)
    notes: dict[str, str] = dataclasses.field(default_factory=dict)
    skipped: list[tuple[Path, str]] = dataclasses.field(default_factory=list)


def _is_notebook_name(name: bytes) -> bool:
    return name.lower().endswith(b".ipynb") and len(name) > 6


def _stem(name: bytes) -> bytes:
    return name[:-6] if _is_notebook_name(name) else name


def _inside(path: bytes, root: bytes) -> bool:
    real = os.path.realpath(path)
    return real == root or real.startswith(root.rstrip(b"/") + b"/")


def skeleton(sid: str) -> str:
    """What a name looks like: NFKC, case-folded, Cyrillic/Greek look-alikes as Latin, no spaces."""
    s = unicodedata.normalize("NFKC", sid).translate(HOMOGLYPHS).casefold()
    return "".join(s.split())


def _scripts(sid: str) -> set[str]:
    out = set()
    for ch in sid:
        if ch.isalpha():
            name = unicodedata.name(ch, "")
            out.add(name.split(" ")[0] if name else "?")
    return out


def scan_submissions(src: Path) -> Scan:
    """Every notebook of ``src`` (a folder, or one notebook) with its id, and why anything else was left out.

    Raises
    ------
    FileNotFoundError
        When ``src`` is neither a folder nor a file.
    """
    scan = Scan()
    src = Path(src)
    if src.is_file():
        raw = os.fsencode(src.name)
        scan.found[student_id(_stem(raw))] = src
        return scan
    if not src.is_dir():
        raise FileNotFoundError(f"submissions: no such folder or file {src}")
    root = os.path.realpath(os.fsencode(src))
    # (normalised id, exact id, path, reason when refused, name note)
    cands: list[tuple[str, str, Path, str | None, str]] = []

    def refuse_reason(entry_path: bytes) -> str | None:
        if not os.path.lexists(entry_path):
            return "not graded: it disappeared while the folder was read"
        if os.path.islink(entry_path) and not _inside(entry_path, root):
            return "not graded: a link to something outside the submissions folder"
        if not os.path.exists(entry_path):
            return "not graded: a broken link"
        if not os.path.isfile(entry_path):
            return "not graded: not a regular file"
        return None

    def walk(folder: bytes, rel: list[bytes], depth: int, seen: set[bytes], out: list[tuple[list[bytes], bytes]]):
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as err:
            scan.skipped.append((Path(os.fsdecode(folder)), f"unreadable folder ({err.strerror})"))
            return
        for e in entries:
            path = Path(os.fsdecode(e.path))
            if e.name.startswith(b"."):
                scan.skipped.append((path, "hidden file or folder (.ipynb_checkpoints: Jupyter's autosaves)"
                                     if e.name == b".ipynb_checkpoints" else "hidden file or folder"))
                continue
            is_link = e.is_symlink()
            if is_link and not _inside(e.path, root):
                if _is_notebook_name(e.name):
                    out.append(([*rel, e.name], e.path))  # refused below, with its reason
                else:
                    scan.skipped.append((path, "a link to something outside the submissions folder"))
                continue
            if e.is_dir():  # follows links that stay inside
                real = os.path.realpath(e.path)
                if real in seen:
                    scan.skipped.append((path, "a link to a folder already searched (a loop)"))
                elif depth >= MAX_DEPTH:
                    scan.skipped.append((path, f"deeper than {MAX_DEPTH} folders"))
                else:
                    walk(e.path, [*rel, e.name], depth + 1, seen | {real}, out)
            elif _is_notebook_name(e.name):
                out.append(([*rel, e.name], e.path))
            else:
                scan.skipped.append((path, "not a notebook (.ipynb)"))

    top: list[tuple[list[bytes], bytes]] = []
    walk(os.fsencode(src), [], 0, {root}, top)
    groups: dict[bytes, list[tuple[list[bytes], bytes]]] = {}
    for parts, path in top:
        groups.setdefault(parts[0], []).append((parts, path))
    for first, items in groups.items():
        if len(items) == 1 and len(items[0][0]) == 1:  # a notebook at the top
            ids = [(student_id(_stem(first)), exact_id(first), name_changes(_stem(first)))]
        elif len(items) == 1:  # a student's folder with one notebook
            ids = [(student_id(first), exact_id(first) + "/" + "/".join(exact_id(p) for p in items[0][0][1:]),
                    name_changes(first))]
        else:  # several notebooks in one student's folder
            ids = [(student_id(first) + "/" + "/".join(student_id(_stem(p)) for p in parts[1:]),
                    "/".join(exact_id(p) for p in parts), name_changes(first)) for parts, _ in items]
        for (sid, exact, note), (parts, path) in zip(ids, items):
            cands.append((sid, exact, Path(os.fsdecode(path)), refuse_reason(path), note))
    # a folder without notebooks says so
    for e in sorted(os.scandir(os.fsencode(src)), key=lambda e: e.name):
        if e.is_dir() and not e.is_symlink() and not e.name.startswith(b".") and e.name not in groups:
            scan.skipped.append((Path(os.fsdecode(e.path)), "a folder without a notebook"))
    # one id, one notebook: clashing ids become exact paths, then numbered if still equal
    count: dict[str, int] = {}
    for sid, *_ in cands:
        count[sid] = count.get(sid, 0) + 1
    final: list[tuple[str, str, Path, str | None, str]] = []
    used: set[str] = set()
    for sid, exact, path, reason, note in cands:
        name = sid
        if count[sid] > 1:
            note = "; ".join(filter(None, [note, f"{count[sid]} submissions have the name {sid!r}: "
                                                 "this id is the exact path"]))
            sid = exact
        base, n = sid, 1
        while sid in used:
            n += 1
            sid = f"{base}~{n}"
        used.add(sid)
        final.append((sid, name, path, reason, note))
    looks: dict[str, list[str]] = {}  # by what the (normalised) name looks like
    for sid, name, *_ in final:
        looks.setdefault(skeleton(name), []).append(sid)
    for sid, name, path, reason, note in final:
        alike = [o for o in looks[skeleton(name)] if o != sid]
        notes = [note] if note else []
        if alike:
            notes.append("looks like " + ", ".join(repr(o) for o in alike))
        scripts = _scripts(sid)
        if len(scripts & {"LATIN", "CYRILLIC", "GREEK"}) > 1:
            notes.append("mixes " + " and ".join(sorted(s.title() for s in scripts)) + " letters")
        if notes:
            scan.notes[sid] = "; ".join(notes)
        if reason is None:
            scan.found[sid] = path
        else:
            scan.refused[sid] = (path, reason)
    return scan


def find_submissions(src: Path) -> dict[str, Path]:
    """``{student id: notebook}`` of a submissions folder (or one notebook): :attr:`Scan.found` of
    :func:`scan_submissions`, whose rules say which ids and which files."""
    return scan_submissions(src).found
