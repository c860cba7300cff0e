"""The ``workbench`` command: parses arguments, makes one API call, returns an exit status.

Exit status: 0 done; 1 ``map --fail-on`` found findings at or above the threshold
(or ``verify``/``run`` found a failure); 2 the tool could not do its job (the
message on stderr says why).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from . import api

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """A problem with the arguments or the input: exit status 2, message on stderr."""


def _existing_dir(value: str) -> Path:
    path = Path(value)
    if not path.exists():
        raise argparse.ArgumentTypeError(f"{value}: no such directory")
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"{value}: not a directory")
    if not os.access(path, os.R_OK | os.X_OK):
        raise argparse.ArgumentTypeError(f"{value}: not readable")
    return path


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--jobs", type=int, default=None, help="worker processes (default: all cores)")
    p.add_argument("--config", default=None, help="workbench.toml: public/sensitive routes, rules on/off, excludes")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="workbench", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("map", help="static audit: routes and findings as CSV, SARIF and JSON")
    p.add_argument("src", type=_existing_dir)
    p.add_argument("--out", default="reports/map", help="output folder (default: reports/map)")
    p.add_argument("--fail-on", choices=["low", "medium", "high"], default=None,
                   help="exit 1 when a finding at or above this severity is present")
    p.add_argument("--baseline", default=None, help="a previous findings.sarif: only new findings count for --fail-on")
    p.add_argument("--no-bandit", action="store_true", help="do not run bandit")
    p.add_argument("--no-semgrep", action="store_true", help="do not run semgrep")
    p.add_argument("--no-cache", action="store_true", help="re-analyse every file")
    p.add_argument("--format", default="all", choices=["all", "csv", "sarif", "json"],
                   help="which outputs to write (default: all)")
    _common(p)

    p = sub.add_parser("migrate", help="write a secured copy of SRC to --target")
    p.add_argument("src", type=_existing_dir)
    p.add_argument("--target", default=None, help="output folder (required unless --dry-run)")
    p.add_argument("--only", default=None, help="comma-separated codemods to apply")
    p.add_argument("--skip", default=None, help="comma-separated codemods not to apply")
    p.add_argument("--dry-run", action="store_true", help="print a unified diff, write nothing")
    _common(p)

    p = sub.add_parser("verify", help="build the app and probe every route in-process")
    p.add_argument("app", type=_existing_dir)
    p.add_argument("--factory", default=None, help="module:function building the app")
    p.add_argument("--out", default="reports/verify")
    p.add_argument("--expected", default=None, help="a map output folder to compare with (default: map APP)")
    p.add_argument("--seed", default=None,
                   help="module:function (or cli:NAME, or none) filling the probe's database (default: found)")
    p.add_argument("--timeout", type=float, default=300, help="seconds the app may take to build and answer")
    _common(p)

    p = sub.add_parser("integrity", help="pre-deploy gate: critical files, imports, compile, docs naming files")
    p.add_argument("src", type=_existing_dir)
    p.add_argument("--legacy", type=_existing_dir, default=None, help="the tree SRC was migrated from")
    p.add_argument("--factory", default=None, help="module:function building the app (default: found)")
    p.add_argument("--no-imports", action="store_true",
                   help="static checks only (nothing is imported): fast enough for a pre-commit hook")
    p.add_argument("--config", default=None, help="workbench.toml with [integrity] critical_files")

    p = sub.add_parser("run", help="the whole pipeline through the notebooks, with HTML reports")
    p.add_argument("--legacy", type=_existing_dir, default=Path("legacy_app"))
    p.add_argument("--target", default="reports/target_app")
    p.add_argument("--reports", default="reports")
    p.add_argument("-p", "--parameter", action="append", default=[], metavar="NAME=VALUE",
                   help="extra notebook parameter (repeatable)")
    _common(p)
    return parser


def _split(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # argparse exits 2 with its own message on bad arguments
    from .config import ConfigError
    from .mapping import MapInputError

    try:
        return _dispatch(args)
    except (UsageError, ConfigError, MapInputError) as exc:
        print(f"workbench {args.command}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("workbench: interrupted", file=sys.stderr)
        return 130


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "map":
        from .mapping import gate

        result = api.map(args.src, out=args.out, config=args.config, jobs=args.jobs,
                         bandit=not args.no_bandit, semgrep=not args.no_semgrep,
                         cache=not args.no_cache, formats=args.format)
        print(result.describe(), file=sys.stderr)
        if args.fail_on:
            failing = gate(result, args.fail_on, baseline=args.baseline)
            if failing:
                print(f"{failing} finding(s) at or above {args.fail_on}", file=sys.stderr)
                return EXIT_FINDINGS
        return EXIT_OK

    if args.command == "migrate":
        if not args.target and not args.dry_run:
            raise UsageError("--target DIR is required (or use --dry-run)")
        from .migrate import MigrationError

        try:
            result = api.migrate(args.src, args.target, only=_split(args.only), skip=_split(args.skip),
                                 dry_run=args.dry_run, jobs=args.jobs, config=args.config)
        except MigrationError as exc:  # a bad target, an unknown codemod name
            raise UsageError(str(exc)) from exc
        if args.dry_run:
            sys.stdout.write(result.diff)
        print(result.describe(), file=sys.stderr)
        return EXIT_OK

    if args.command == "verify":
        try:
            result = api.verify(args.app, factory=args.factory, out=args.out, expected=args.expected,
                                config=args.config, seed=args.seed, timeout=args.timeout)
        except ValueError as exc:  # no/several factories, a bad --factory or --expected
            raise UsageError(str(exc)) from exc
        print(result.describe(), file=sys.stderr)
        return EXIT_OK if result.ok else EXIT_FINDINGS

    if args.command == "integrity":
        try:
            report = api.integrity(args.src, legacy=args.legacy, imports=not args.no_imports, config=args.config,
                                   factory=args.factory)
        except ValueError as exc:  # an unreadable [integrity] table, a bad --factory
            raise UsageError(str(exc)) from exc
        print(report.describe(), file=sys.stderr)
        return EXIT_OK if report.ok else EXIT_FINDINGS

    if args.command == "run":
        params = {}
        for item in args.parameter:
            name, sep, value = item.partition("=")
            if not sep:
                raise UsageError(f"--parameter {item!r}: expected NAME=VALUE")
            params[name] = value
        # --jobs/--config apply to every notebook that takes them (an explicit -p wins).
        if args.jobs is not None:
            params.setdefault("jobs", args.jobs)
        if args.config is not None:
            params.setdefault("config", str(Path(args.config).resolve()))
        summary = api.run(args.legacy, args.target, args.reports, parameters=params)
        if summary.get("usage_error"):
            return EXIT_USAGE  # the pipeline could not start; it said why on stderr
        return EXIT_OK if summary.get("ok") else EXIT_FINDINGS

    raise UsageError(f"unknown command {args.command}")
