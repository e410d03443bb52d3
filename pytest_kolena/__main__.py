"""`python -m pytest_kolena report`: the reports of a stored run as CI wrote them, or of several side by side."""

from __future__ import annotations

import argparse
import sys

from .report.cli import report_main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pytest_kolena", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    report = commands.add_parser(
        "report",
        help="write reports (.md, .json, .html) of a stored run, or of several runs side by side",
        description="Write reports of a stored run. With two runs, the second is shown against the first (its "
        "figures beside each item's); with two or more, a table shows every model of every run per test case, the "
        "best of each row marked and each column checked against the first. RUN is a run id, a tag or model name "
        "(the latest run with it), a git ref, or 'latest'.",
    )
    report.add_argument(
        "runs", nargs="+", metavar="RUN", help="the run; more RUNs are shown side by side with the first"
    )
    report.add_argument(
        "--compare",
        action="store_true",
        help="the side-by-side table of every model even for one run (champion and challenger of one session)",
    )
    report.add_argument(
        "-o", "--output", action="append", required=True, metavar="PATH", help="a report file (repeatable)"
    )
    report.add_argument("--store", default=".kolena", help="the run store: a folder or an fsspec URL (default .kolena)")
    args = parser.parse_args(argv)
    return report_main(args.store, args.runs, args.output, args.compare)


if __name__ == "__main__":
    sys.exit(main())
