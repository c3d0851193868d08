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
  notebooks, folders without notebooks) is listed with its reason (:attr:`Scan.skipped`);
* a top-level notebook named as a Canvas bulk download names it
  (``lastfirst_LATE_12345_67890_day1_homework.ipynb``, :func:`parse_canvas_name`) gets the id
  ``lastfirst_12345`` (one per student): its user id, file id and LATE tag are kept
  (:attr:`Scan.canvas`); of several files of one user (re-submissions ``-1``, ``-2``) the latest
  is graded and the others are listed (:attr:`Scan.older`, :attr:`Scan.skipped`, ``name_note``).
  In a folder where some names are Canvas names, a name that is not one keeps the file name as
  its id and its ``name_note`` says so.
"""
from __future__ import annotations

import dataclasses
import os
import re
import unicodedata
from pathlib import Path

from .csvlog import exact_id, name_changes, student_id

#: How deep a student's folder is searched for notebooks.
MAX_DEPTH = 6
#: Latin look-alikes of Cyrillic and Greek letters (for flagging names that only look the same).
HOMOGLYPHS = str.maketrans("аеорсухіјѕԁɡАВЕКМНОРСТХІЈЅαβεικνορτυχΑΒΕΖΗΙΚΜΝΟΡΤΥΧ",
                           "aeopcyxijsdgABEKMHOPCTXIJSabeiknoptyxABEZHIKMNOPTYX")


#: What a top-level notebook whose name is not a Canvas download name, in a Canvas download, is told.
CANVAS_FALLBACK = ("not a Canvas download name (name_[LATE_]userid_fileid_file.ipynb): its id is the file name, "
                   "and it has no LATE tag")
_CANVAS = re.compile(r"^(?P<name>\w+?)(?P<late>_LATE)?_(?P<user>\d+)_(?P<file>\d+)_(?P<orig>.+)$")
_CANVAS_ANON = re.compile(r"^(?P<late>LATE_)?anon_(?P<user>[A-Za-z0-9]+)_(?P<file>\d+)_(?P<orig>.+)$")
_RESUBMISSION = re.compile(r"^(?P<base>.+?)-(?P<n>\d+)$")


@dataclasses.dataclass(frozen=True)
class CanvasName:
    """A Canvas bulk-download file name, ``name_[LATE_]userid_fileid_original.ipynb``, read.

    Canvas writes ``[sortable name, "LATE" when late, user id]`` joined by ``_`` (non-word
    characters removed, ``_digits_`` taken out of the name so that the ids can be found), then
    ``_`` + the uploaded file's id + ``_`` + its name (instructure/canvas-lms
    ``lib/content_zipper.rb``: ``get_filename``, ``add_upload_submission``); an anonymised
    assignment writes ``anon_<anonymous id>`` for the name and user.  A student who uploads a
    file of the same name again gets ``-1``, ``-2`` ... before the extension.

    Attributes
    ----------
    name : str
        Canvas's name part (``lastfirst``; ``'anon'`` for anonymised grading).
    user_id : str
        Canvas's user id (the gradebook's ``ID``), or the anonymous id.
    file_id : str
        Canvas's id of the uploaded file (the "submission id" of the download's name).
    late : bool
        Canvas marked the submission LATE (against the student's own due date).
    original : str
        The file name the student uploaded.
    resubmission : int
        0, or N of a ``-N`` re-submission suffix.
    """

    name: str
    user_id: str
    file_id: str
    late: bool
    original: str
    resubmission: int = 0

    @property
    def id(self) -> str:
        """The student id the grader uses: ``name_userid`` (the same for every re-submission)."""
        return f"{self.name}_{self.user_id}"


def parse_canvas_name(name: bytes | str) -> CanvasName | None:
    """The :class:`CanvasName` of a notebook's file name, or None when it is not one."""
    raw = name if isinstance(name, bytes) else os.fsencode(name)
    try:
        text = unicodedata.normalize("NFC", _stem(raw).decode("utf-8"))
    except UnicodeDecodeError:
        return None
    if not _is_notebook_name(raw):
        return None
    anon = _CANVAS_ANON.match(text) if text.startswith(("anon_", "LATE_anon_")) else None
    m = anon or _CANVAS.match(text)
    if m is None:
        return None
    orig = m.group("orig")
    r = _RESUBMISSION.match(orig)
    return CanvasName(name="anon" if anon is not None else m.group("name"), user_id=m.group("user"),
                      file_id=m.group("file"), late=bool(m.group("late")), original=orig + ".ipynb",
                      resubmission=int(r.group("n")) if r else 0)


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
        ``(path, reason)`` of everything else that was left out (older re-submissions included).
    canvas : dict
        ``{student id: CanvasName}`` of the submissions whose file name is a Canvas download name.
    older : dict
        ``{student id: [paths]}``: older re-submissions of the same Canvas user (not graded).
    """

    found: dict[str, Path] = dataclasses.field(default_factory=dict)
    refused: dict[str, tuple[Path, str]] = dataclasses.field(default_factory=dict)
    notes: dict[str, str] = dataclasses.field(default_factory=dict)
    skipped: list[tuple[Path, str]] = dataclasses.field(default_factory=list)
    canvas: dict[str, CanvasName] = dataclasses.field(default_factory=dict)
    older: dict[str, list[Path]] = dataclasses.field(default_factory=dict)


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


def _refuse_reason(entry_path: bytes, root: bytes) -> str | None:
    if not os.path.lexists(entry_path):
        return "not graded: it disappeared while the folder was read"
    if os.path.islink(entry_path) and not _inside(entry_path, root):
        return "not graded: a link to something outside the submissions folder"
    if not os.path.exists(entry_path):
        return "not graded: a broken link"
    if not os.path.isfile(entry_path):
        return "not graded: not a regular file"
    return None


def _walk(scan: Scan, folder: bytes, root: bytes, rel: list[bytes], depth: int, seen: set[bytes],
          out: list[tuple[list[bytes], bytes]]) -> None:
    """Append ``(path parts, path)`` of every notebook under ``folder`` to ``out``; note what is skipped."""
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
        elif e.is_symlink() and not _inside(e.path, root):
            if _is_notebook_name(e.name):
                out.append(([*rel, e.name], e.path))  # refused later, with its reason
            else:
                scan.skipped.append((path, "a link to something outside the submissions folder"))
        elif e.is_dir():  # follows links that stay inside
            real = os.path.realpath(e.path)
            if real in seen:
                scan.skipped.append((path, "a link to a folder already searched (a loop)"))
            elif depth >= MAX_DEPTH:
                scan.skipped.append((path, f"deeper than {MAX_DEPTH} folders"))
            else:
                _walk(scan, e.path, root, [*rel, e.name], depth + 1, seen | {real}, out)
        elif _is_notebook_name(e.name):
            out.append(([*rel, e.name], e.path))
        else:
            scan.skipped.append((path, "not a notebook (.ipynb)"))


def _candidates(scan: Scan, groups: dict, root: bytes,
                cv_files: list) -> list[tuple[str, str, Path, str | None, str]]:
    """``(id, exact id, path, reason when refused, name note)`` of every notebook; Canvas names parsed
    (the latest of each Canvas user is appended to ``cv_files`` as ``(CanvasName, path)``)."""
    cands, per_user = [], {}
    canvas_folder = any(len(it) == 1 and len(it[0][0]) == 1 and parse_canvas_name(first) for first, it in groups.items())
    for first, items in groups.items():
        cv = parse_canvas_name(first) if len(items) == 1 and len(items[0][0]) == 1 else None
        if cv is not None:  # a course website's download name: one id per student
            ids = [(cv.id, exact_id(first), name_changes(_stem(first)))]
        elif len(items) == 1 and len(items[0][0]) == 1:  # a notebook at the top
            note = name_changes(_stem(first))
            if canvas_folder:
                note = "; ".join(filter(None, [note, CANVAS_FALLBACK]))
            ids = [(student_id(_stem(first)), exact_id(first), note)]
        elif len(items) == 1:  # a student's folder with one notebook
            ids = [(student_id(first), exact_id(first) + "/" + "/".join(exact_id(p) for p in items[0][0][1:]),
                    name_changes(first))]
        else:  # several notebooks in one student's folder
            ids = [(student_id(first) + "/" + "/".join(student_id(_stem(p)) for p in parts[1:]),
                    "/".join(exact_id(p) for p in parts), name_changes(first)) for parts, _ in items]
        for (sid, exact, note), (parts, path) in zip(ids, items):
            p = Path(os.fsdecode(path))
            if cv is not None:
                per_user.setdefault(sid, []).append((cv, p))
            cands.append((sid, exact, p, _refuse_reason(path, root), note))
    return _latest_canvas(scan, cands, per_user, cv_files)


def _latest_canvas(scan: Scan, cands: list, per_user: dict, cv_files: list) -> list:
    """One candidate per Canvas user: the latest re-submission; the others are listed in ``scan.skipped``."""
    out, kept = [], {}
    for sid, files in per_user.items():
        files.sort(key=lambda f: (f[0].resubmission, int(f[0].file_id)))
        kept[sid] = files[-1][1]
        for cv, p in files[:-1]:
            scan.skipped.append((p, f"an older submission of Canvas user {cv.user_id}: the latest, "
                                    f"{files[-1][1].name}, is graded"))
        if len(files) > 1:
            scan.older[sid] = [p for _, p in files[:-1]]
        cv_files.append(files[-1])
    for c in cands:
        if c[0] not in kept or c[2] == kept[c[0]]:
            out.append(c)
    return out


def _unique(cands: list) -> list[tuple[str, str, Path, str | None, str]]:
    """Clashing ids become exact paths, then numbered if still equal: one id, one notebook."""
    count: dict[str, int] = {}
    for sid, *_ in cands:
        count[sid] = count.get(sid, 0) + 1
    final, used = [], set()
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
    return final


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
        cv = parse_canvas_name(raw)
        sid = cv.id if cv else student_id(_stem(raw))
        scan.found[sid] = src
        if cv:
            scan.canvas[sid] = cv
        return scan
    if not src.is_dir():
        raise FileNotFoundError(f"submissions: no such folder or file {src}")
    root = os.path.realpath(os.fsencode(src))
    top: list[tuple[list[bytes], bytes]] = []
    _walk(scan, os.fsencode(src), root, [], 0, {root}, top)
    groups: dict[bytes, list[tuple[list[bytes], bytes]]] = {}
    for parts, path in top:
        groups.setdefault(parts[0], []).append((parts, path))
    cv_files: list[tuple[CanvasName, Path]] = []
    final = _unique(_candidates(scan, groups, root, cv_files))
    for e in sorted(os.scandir(os.fsencode(src)), key=lambda e: e.name):  # a folder without notebooks says so
        if e.is_dir() and not e.is_symlink() and not e.name.startswith(b".") and e.name not in groups:
            scan.skipped.append((Path(os.fsdecode(e.path)), "a folder without a notebook"))
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
        if sid in scan.older:
            notes.append("re-submission: the latest is graded; older, not graded: "
                         + ", ".join(p.name for p in scan.older[sid]))
        if notes:
            scan.notes[sid] = "; ".join(notes)
        if reason is None:
            scan.found[sid] = path
        else:
            scan.refused[sid] = (path, reason)
    by_path = {p: cv for cv, p in cv_files}
    scan.canvas = {sid: by_path[path] for sid, _, path, _, _ in final if path in by_path}
    return scan


def find_submissions(src: Path) -> dict[str, Path]:
    """``{student id: notebook}`` of a submissions folder (or one notebook): :attr:`Scan.found` of
    :func:`scan_submissions`, whose rules say which ids and which files."""
    return scan_submissions(src).found
