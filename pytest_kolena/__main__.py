"""`python -m pytest_kolena report`: the reports of a stored run, or of two side by side, as CI wrote them."""

from __future__ import annotations

import argparse
import sys

from .report.cli import report_main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pytest_kolena", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    report = commands.add_parser(
        "report",
        help="write reports (.md, .json, .html) of a stored run, or of two runs side by side",
        description="Write reports of a stored run; with two runs, the second is shown against the first "
        "(its figures beside each item's). RUN is a run id, a tag or model name (the latest run with it), a git "
        "ref, or 'latest'.",
    )
    report.add_argument("runs", nargs="+", metavar="RUN", help="the run; a second RUN is compared with the first")
    report.add_argument(
        "-o", "--output", action="append", required=True, metavar="PATH", help="a report file (repeatable)"
    )
    report.add_argument("--store", default=".kolena", help="the run store: a folder or an fsspec URL (default .kolena)")
    args = parser.parse_args(argv)
    if len(args.runs) > 2:
        parser.error("give one run, or two to compare")
    return report_main(args.store, args.runs, args.output)


if __name__ == "__main__":
    sys.exit(main())
