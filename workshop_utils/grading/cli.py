"""The command line of ``workshop-grade``: arguments, exit codes, messages.

It does not import the grader (which imports it): :func:`workshop_utils.grading.grader.main`
passes :func:`~workshop_utils.grading.grader.grade_folder` to :func:`run`.
"""
from __future__ import annotations

import argparse
import math
import sys
from typing import Callable

from .practices import PRACTICES

DESCRIPTION = "workshop-grade: grade a folder of homework notebooks into a CSV."


def _number(kind: type, low: float, what: str):
    """An argparse type: ``kind`` (float or int), finite, > ``low``; says what it expected."""
    def parse(text: str):
        try:
            v = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not (low < v < math.inf):
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        return v
    return parse


_seconds = _number(float, 0, "a finite positive number of seconds")
_positive = _number(int, 0, "a positive integer")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The parsed command line of ``workshop-grade`` (``argv`` defaults to ``sys.argv[1:]``)."""
    ap = argparse.ArgumentParser(prog="workshop-grade", description=DESCRIPTION,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("submissions", help="folder of submitted .ipynb files, or of one sub-folder per student")
    ap.add_argument("--day", type=int, required=True, choices=sorted(PRACTICES), help="which homework")
    ap.add_argument("--out", required=True, help="CSV file to write (appended row by row)")
    ap.add_argument("--hidden", action="append", default=[], help="hidden-checks file (repeatable)")
    ap.add_argument("--timeout", type=_seconds, default=1800, help="wall-clock seconds per submission (default 1800)")
    ap.add_argument("--memory-mb", type=_positive, default=8192,
                    help="memory of one submission, all its processes together (default 8192)")
    ap.add_argument("--export-timeout", type=_seconds, default=120,
                    help="seconds of --timeout kept for the final export (at most a quarter of it)")
    ap.add_argument("--check-timeout", type=_seconds, default=300, help="seconds for the checks of one submission")
    ap.add_argument("--jobs", type=_positive, default=None,
                    help="submissions graded at once (default: from the cores and --memory-mb)")
    ap.add_argument("--dask", metavar="ADDRESS", default=None,
                    help="run the sandboxes on a Dask cluster (e.g. tcp://scheduler:8786); checks stay here")
    ap.add_argument("--resume", action="store_true", help="skip students already in --out")
    ap.add_argument("--unsafe-no-sandbox", action="store_true",
                    help="run submissions WITHOUT the bubblewrap sandbox (they can read your files)")
    ap.add_argument("--feedback", metavar="DIR", default=None,
                    help="write one feedback page (HTML) and text per student to DIR")
    ap.add_argument("--report", metavar="FILE", default=None, help="write the class report (HTML) to FILE")
    ap.add_argument("--store", metavar="DIR", default=None,
                    help="keep every export and the probe in the private folder DIR (for workshop-grade regrade)")
    # -- written answers read by a person (grading.manual; `workshop-grade review` writes the template)
    ap.add_argument("--manual", metavar="CSV", action="append", default=None,
                    help="hand scores of written answers (repeatable); they replace the first pass (kept in --store)")
    ap.add_argument("--quiet", action="store_true")
    add_course_options(ap)
    return ap.parse_args(argv)


def run(args: argparse.Namespace, grade_folder: Callable[..., list[dict]]) -> int:
    """Grade as ``args`` say with ``grade_folder``; the exit code (0: every submission has a row, 2: error,
    130: interrupted)."""
    try:
        rows = grade_folder(args.submissions, args.day, args.out, hidden=args.hidden, timeout=args.timeout,
                            memory_mb=args.memory_mb, resume=args.resume, unsafe_no_sandbox=args.unsafe_no_sandbox,
                            export_timeout=args.export_timeout, check_timeout=args.check_timeout, jobs=args.jobs, dask=args.dask,
                            verbose=not args.quiet, **course_kwargs(args),
                            **{k: getattr(args, k) for k in ("store", "feedback", "report", "manual")
                               if getattr(args, k, None) is not None})
    except (OSError, ValueError, RuntimeError) as err:
        print(f"workshop-grade: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("workshop-grade: interrupted; the rows written so far are in the CSV (continue with --resume)",
              file=sys.stderr)
        return 130
    if not args.quiet:
        print(f"workshop-grade: wrote {len(rows)} rows to {args.out}", file=sys.stderr)
    return 0


# ----------------------------------------------------------------------------- the course website (#26)
def add_course_options(ap: argparse.ArgumentParser) -> None:
    """The options of the course website: ``--roster``, late work (``--deadline`` ...) and gradebooks (``--format``)."""
    g = ap.add_argument_group("course website", "class list, late work and gradebook files (README: instructor guide)")
    g.add_argument("--roster", metavar="CSV", default=None,
                   help="class list: a Canvas gradebook export or an id,name,email CSV; every enrolled student gets "
                        "one row (no submission: 0 points), submissions matching nobody are listed")
    g.add_argument("--deadline", metavar="TIME", default=None,
                   help="ISO 8601 with a time zone, e.g. 2026-12-05T23:59+01:00; marks late work")
    g.add_argument("--late-policy", metavar="POLICY", default=None,
                   help="e.g. '10%%/day,cap=50%%,grace=15m' (percent of the raw score per started day/hour/week); "
                        "default: late work marked, not penalised")
    g.add_argument("--times", metavar="FILE", default=None,
                   help="the course website's submission times: CSV (id,submitted_at) or Canvas's submissions JSON")
    g.add_argument("--format", dest="formats", action="append", choices=("canvas", "moodle"), default=None,
                   help="also write a gradebook file this website imports (needs --roster; repeatable)")
    g.add_argument("--gradebook", metavar="FILE", default=None,
                   help="file of the --format gradebook (default: next to --out, OUT_canvas.csv)")
    g.add_argument("--gradebook-column", metavar="TITLE", default=None,
                   help="the day's gradebook column, e.g. 'Day 1 homework (12345)' (default: from the roster)")


def course_kwargs(args: argparse.Namespace) -> dict:
    """The course website's keyword arguments of ``grade_folder`` that were given."""
    keys = ("roster", "deadline", "late_policy", "times", "formats", "gradebook", "gradebook_column")
    return {k: getattr(args, k) for k in keys if getattr(args, k, None) is not None}
