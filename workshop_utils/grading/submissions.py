"""Finding the submissions of a folder (``workshop-grade SUBMISSIONS``)."""
from __future__ import annotations

import os
from pathlib import Path

from .csvlog import student_id


def find_submissions(src: Path) -> dict[str, Path]:
    """``{student id: notebook}`` of a submissions folder (or one notebook).

    A folder may hold ``*.ipynb`` files (id: the file name without ``.ipynb``) and/or one
    sub-folder per student, the shape of a course website's download (id: the folder name;
    a folder with several notebooks gives ``folder/file`` ids). Hidden files and
    ``.ipynb_checkpoints`` are ignored; links are not followed.
    """
    if src.is_file():
        return {student_id(os.fsencode(src.name)[:-6] if src.name.endswith(".ipynb") else os.fsencode(src.name)): src}
    if not src.is_dir():
        raise FileNotFoundError(f"submissions: no such folder or file {src}")
    found: dict[str, Path] = {}

    def add(sid: str, path: Path) -> None:
        if sid in found:
            raise ValueError(f"submissions: two notebooks give the student id {sid!r}: {found[sid]} and {path}")
        found[sid] = path

    for entry in sorted(os.scandir(os.fsencode(src)), key=lambda e: e.name):
        name = entry.name
        if name.startswith(b"."):
            continue
        if entry.is_file(follow_symlinks=False) and name.endswith(b".ipynb"):
            add(student_id(name[:-6]), Path(os.fsdecode(entry.path)))
        elif entry.is_dir(follow_symlinks=False) and name != b".ipynb_checkpoints":
            nbs = sorted((e for e in os.scandir(entry.path) if e.is_file(follow_symlinks=False)
                          and e.name.endswith(b".ipynb") and not e.name.startswith(b".")), key=lambda e: e.name)
            for e in nbs:
                sid = student_id(name) if len(nbs) == 1 else f"{student_id(name)}/{student_id(e.name[:-6])}"
                add(sid, Path(os.fsdecode(e.path)))
    return found

