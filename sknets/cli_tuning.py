"""``sknets tune`` (a worker of a shared study) and ``sknets study`` (its summary).

The same ``sknets tune study.toml --storage URL --study-name NAME`` started on several
machines (a database URL) or several times on one machine (a journal file path) makes
workers of one study: each runs trials until the study holds ``n_trials`` of them and returns
when none is left running. A worker killed mid-trial loses nothing: after a few heartbeat
intervals another worker fails that trial and runs it again.

A worker trains on one device (``--device``): with several GPUs, start one worker per GPU,
each with its own ``CUDA_VISIBLE_DEVICES=i`` (then ``--device auto`` finds that GPU alone) or
its own ``--device cuda:i``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import textwrap
import time

from ._study_file import STUDY_FILE_EXAMPLE, STUDY_FILE_KEYS

#: Default seconds between heartbeats: ``sknets.tuning.storage.HEARTBEAT_INTERVAL``, written
#: out so that building the parser (``sknets --help``) does not import Optuna.
HEARTBEAT_INTERVAL = 30

#: Exit codes: the study ran (or was summarised), the command was wrong, the study is missing.
EXIT_OK, EXIT_USAGE, EXIT_MISSING = 0, 2, 1


#: Width of the help text: argparse's own wrapping is off for the pre-formatted file format.
HELP_WIDTH = 78


def _fill(text: str, indent: str) -> str:
    """Wrap RST-flavoured ``text`` for a terminal, never inside a ````literal````."""
    # Spaces inside a literal become NUL for textwrap, which then cannot break there.
    text = re.sub(r"``(.*?)``", lambda match: match.group(1).replace(" ", "\0"), text)
    wrapped = textwrap.fill(
        text,
        HELP_WIDTH,
        initial_indent=indent,
        subsequent_indent=indent,
        break_on_hyphens=False,
    )
    return wrapped.replace("\0", " ")


def study_file_help() -> str:
    """The study file format as plain text for ``sknets tune --help``: every key, an example."""
    entries: list[list[str]] = []
    for line in STUDY_FILE_KEYS.splitlines():
        if line.startswith(" "):
            entries[-1].append(line.strip())
        else:
            entries.append([line])
    lines = ["study file (TOML; a JSON file has the same keys, its tables as objects):"]
    for term, *description in entries:
        lines += ["  " + term, _fill(" ".join(description), " " * 6)]
    example = textwrap.indent(STUDY_FILE_EXAMPLE, "  ")
    return "\n".join(lines) + "\n\nexample study.toml:\n" + example


def _error(command: str, message: str, code: int) -> int:
    print(f"sknets {command}: error: {message}", file=sys.stderr)
    return code


def _open_storage(location: str, heartbeat_interval: int = HEARTBEAT_INTERVAL):
    """The storage at ``location``; a ValueError saying why when it cannot be opened."""
    import sqlalchemy.exc

    from .tuning.storage import resolve_storage

    try:
        return resolve_storage(location, heartbeat_interval=heartbeat_interval)
    except ImportError as error:
        raise ValueError(
            f"--storage {location}: {error} (for PostgreSQL: pip install 'psycopg[binary]')"
        ) from error
    except (OSError, sqlalchemy.exc.SQLAlchemyError) as error:
        raise ValueError(f"--storage {location} cannot be opened: {error}") from error


def run_tune(args: argparse.Namespace) -> int:
    """Handler of ``sknets tune``: join the study and run trials until it is done."""
    import optuna

    from .tuning.config import TuneConfig
    from .tuning.devices import assign_devices, objective_on_device, use_device
    from .tuning.report import format_study_summary
    from .tuning.storage import claim_lock
    from .tuning.workers import optuna_verbosity, run_until_study_has

    try:
        config = TuneConfig.from_file(args.config)
        n_trials = config.n_trials if args.n_trials is None else args.n_trials
        if n_trials < 1:
            raise ValueError(f"--n-trials={n_trials} must be >= 1")
        storage = _open_storage(args.storage, args.heartbeat_interval)
        deadline = None if args.timeout is None else time.time() + args.timeout
        try:
            (device,) = assign_devices(1, args.device)
        except ValueError as error:
            raise ValueError(f"--device {args.device}: {error}") from error
        objective = objective_on_device(config.objective(deadline), device)
    except ValueError as error:
        return _error("tune", str(error), EXIT_USAGE)
    with optuna_verbosity(2 if not args.quiet else 0):
        study = optuna.create_study(
            storage=storage,
            study_name=args.study_name,
            direction="maximize",
            sampler=optuna.samplers.TPESampler(),  # unseeded: workers must not draw alike
            pruner=config.pruner(),
            load_if_exists=True,
        )
        if study.direction != optuna.study.StudyDirection.MAXIMIZE:
            return _error("tune", f"study {args.study_name!r} minimises; use another name", 2)
        if "config" not in study.user_attrs:
            study.set_user_attr("config", config.describe())
        print(
            f"worker {os.getpid()} on {device} joins study {study.study_name!r} "
            f"({n_trials} trials in all)",
            flush=True,
        )
        lock = claim_lock(storage, study.study_name)
        use_device(device)
        run_until_study_has(study, objective, n_trials, deadline=deadline, lock=lock)
    print(format_study_summary(study), flush=True)
    return EXIT_OK


def run_study(args: argparse.Namespace) -> int:
    """Handler of ``sknets study``: summarise one study, or list the studies of a storage."""
    import optuna

    from .tuning.report import format_study_summary, summarize_study

    if "://" not in args.storage and not os.path.isfile(args.storage):
        return _error("study", f"--storage {args.storage}: no such journal file", EXIT_MISSING)
    try:
        storage = _open_storage(args.storage)
    except ValueError as error:
        return _error("study", str(error), EXIT_MISSING)
    if args.study_name is None:
        studies = {
            summary.study_name: summary.n_trials
            for summary in optuna.get_all_study_summaries(storage, include_best_trial=False)
        }
        if args.json:
            print(json.dumps(studies, indent=2))
        else:
            for name, n_trials in studies.items():
                print(f"{name}: {n_trials} trials")
        return EXIT_OK
    try:
        study = optuna.load_study(study_name=args.study_name, storage=storage)
    except KeyError:
        return _error("study", f"no study {args.study_name!r} in {args.storage}", EXIT_MISSING)
    if args.json:
        print(json.dumps(summarize_study(study), indent=2, default=str))
    else:
        print(format_study_summary(study))
    return EXIT_OK


def add_tune_parsers(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``tune`` and ``study`` subcommands, each with ``set_defaults(handler=...)``."""
    storage_help = (
        "journal file path (processes on one machine) or database URL such as "
        "postgresql://user@host/db (machines)"
    )
    tune = subparsers.add_parser(
        "tune",
        help="run trials of a shared Optuna study described by a config file",
        description="\n\n".join(_fill(part, "") for part in __doc__.split("\n\n")[1:]),
        epilog=study_file_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    tune.add_argument("config", help="study file (.toml or .json), described below")
    tune.add_argument("--storage", required=True, help=storage_help)
    tune.add_argument("--study-name", required=True, help="workers with one name share a study")
    tune.add_argument(
        "--n-trials", type=int, default=None, help="trials of the whole study (default: config)"
    )
    tune.add_argument(
        "--timeout", type=float, default=None, help="seconds after which this worker stops"
    )
    tune.add_argument(
        "--heartbeat-interval",
        type=int,
        default=HEARTBEAT_INTERVAL,
        help=f"seconds between heartbeats; a trial silent for 3 of them (and 30 s more on a "
        f"journal file) is run again (default {HEARTBEAT_INTERVAL})",
    )
    tune.add_argument(
        "--device",
        default="auto",
        help="device this worker trains on: auto (the first visible GPU, else the CPU), cpu, "
        "cuda, cuda:N or mps; a device in the study file's [params] wins (default auto)",
    )
    tune.add_argument("-q", "--quiet", action="store_true", help="no line per trial")
    tune.set_defaults(handler=run_tune)

    study = subparsers.add_parser("study", help="summarise a study (or list a storage's studies)")
    study.add_argument("--storage", required=True, help=storage_help)
    study.add_argument("--study-name", default=None, help="the study (default: list them all)")
    study.add_argument("--json", action="store_true", help="print JSON")
    study.set_defaults(handler=run_study)


def main(argv: list[str] | None = None) -> int:
    """Run ``tune`` or ``study`` on their own: ``python -m sknets.cli_tuning tune ...``."""
    parser = argparse.ArgumentParser(prog="sknets")
    add_tune_parsers(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
