"""The ``sknets`` command: ``sknets demo`` and, for tuning, ``sknets tune`` / ``sknets study``."""

from __future__ import annotations

import argparse
import sys


def _run_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    run_demo(args.sections or None)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``sknets`` command."""
    from . import __version__
    from .demo import SECTIONS

    parser = argparse.ArgumentParser(
        prog="sknets", description="scikit-learn neural networks on PyTorch."
    )
    parser.add_argument("--version", action="version", version=f"sknets {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True)
    demo = subparsers.add_parser("demo", help="train the demo models on sklearn's digits")
    demo.add_argument(
        "sections",
        nargs="*",
        metavar="SECTION",
        help=f"sections to run, among {', '.join(SECTIONS)} (default: all)",
    )
    demo.set_defaults(handler=_run_demo)

    from .cli_tuning import add_tune_parsers

    add_tune_parsers(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``sknets`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "demo":
        from .demo import SECTIONS

        unknown = [name for name in args.sections if name not in SECTIONS]
        if unknown:
            parser.error(f"unknown demo section(s) {unknown}; choose from {list(SECTIONS)}")
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
