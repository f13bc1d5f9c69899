"""Command line: `python -m mas_screen assess FILE|-`, `python -m mas_screen criteria`,
`python -m mas_screen trend FILE|-` (serial panels, JSON per contract "Series", or CSV).

Exit 0 when an assessment was produced (field warnings included); exit 2, with one line on
stderr and nothing on stdout, when the input cannot be read at all (contract "Command line").
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TextIO

from pydantic import ValidationError

from mas_screen.columns import ColumnError, read_series_csv, unknown_columns_message, with_lines
from mas_screen.criteria_data import CriteriaDataError, criteria
from mas_screen.engine import assess
from mas_screen.models import Assessment, PatientInput
from mas_screen.references import full_citation
from mas_screen.report_text import render_text
from mas_screen.trends import SeriesInput, SeriesWarning, assess_series, render_trend_text

EXIT_OK, EXIT_UNREADABLE, EXIT_DATA_BROKEN = 0, 2, 3


class InputError(Exception):
    """The input cannot be read at all."""


def _read(path: str | None, stdin: TextIO) -> str:
    if path in (None, "-"):
        return stdin.read()
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"cannot read {path}: not UTF-8 text") from exc


def _validation_message(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "input"
    msg = first["msg"].removeprefix("Value error, ")
    return f"{where}: {msg}"


def parse_patient(text: str) -> PatientInput:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"input is not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from exc
    if not isinstance(data, dict):
        raise InputError("input must be a JSON object with 'context' and/or 'labs'")
    try:
        return PatientInput.model_validate(data)
    except ValidationError as exc:
        raise InputError(f"input has the wrong shape: {_validation_message(exc)}") from exc


def cmd_assess(args: argparse.Namespace, stdin: TextIO, stdout: TextIO) -> int:
    patient = parse_patient(_read(args.file, stdin))
    result: Assessment = assess(patient)
    if args.format == "text":
        stdout.write(render_text(result))
    else:
        json.dump(result.model_dump(mode="json"), stdout, ensure_ascii=False, indent=2)
        stdout.write("\n")
    return EXIT_OK


def cmd_criteria(args: argparse.Namespace, stdin: TextIO, stdout: TextIO) -> int:
    rows = [
        {
            "id": spec.id,
            "name": spec.name,
            "version": spec.version,
            "citation": "; ".join(full_citation(k) for k in spec.references),
            "references": spec.references,
            "population": spec.population.description,
        }
        for spec in criteria().instruments.values()
    ]
    if args.format == "text":
        for row in rows:
            stdout.write(f"{row['id']:<13} {row['name']} ({row['version']})\n{'':<14}{row['citation']}\n")
    else:
        json.dump(rows, stdout, ensure_ascii=False, indent=2)
        stdout.write("\n")
    return EXIT_OK


def parse_series_json(text: str) -> SeriesInput:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"input is not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from exc
    if not isinstance(data, dict):
        raise InputError("input must be a JSON object with 'context' and 'panels'")
    panels = data.get("panels")
    if panels is None:
        raise InputError(
            "input has no 'panels' (a series is {'context': {...}, 'panels': [{'time': ..., 'labs': {...}}]})"
        )
    if isinstance(panels, list) and not panels:
        raise InputError("input has no panels ('panels' is empty)")
    try:
        return SeriesInput.model_validate(data)
    except ValidationError as exc:
        raise InputError(f"input has the wrong shape: {_validation_message(exc)}") from exc


def parse_series_csv(text: str) -> tuple[SeriesInput, list[SeriesWarning], list[int]]:
    try:
        table = read_series_csv(text)
    except ColumnError as exc:
        raise InputError(f"CSV cannot be read as a series: {exc}") from exc
    except ValidationError as exc:
        raise InputError(f"CSV has the wrong shape: {_validation_message(exc)}") from exc
    if table.columns.unknown:
        raise InputError(f"CSV has {unknown_columns_message(table.columns)}")
    if not table.series.panels:
        raise InputError("CSV has no data rows")
    return table.series, table.problems, table.lines


def cmd_trend(args: argparse.Namespace, stdin: TextIO, stdout: TextIO) -> int:
    text = _read(args.file, stdin)
    fmt = args.format_in
    if fmt == "auto":
        fmt = "csv" if str(args.file).lower().endswith(".csv") else "json"
    if fmt == "csv":
        series, problems, lines = parse_series_csv(text)
        result = assess_series(series, problems=problems)
        with_lines(result.warnings, lines)
    else:
        result = assess_series(parse_series_json(text))
    if args.format == "text":
        stdout.write(render_trend_text(result))
    else:
        json.dump(result.model_dump(mode="json"), stdout, ensure_ascii=False, indent=2)
        stdout.write("\n")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m mas_screen",
        description="MAS Screen: published MAS/HLH criteria applied to one panel (a screening aid, not a diagnosis).",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p_assess = sub.add_parser("assess", help="assess one patient (input JSON from FILE or stdin)")
    p_assess.add_argument("file", nargs="?", default="-", help="input JSON file, or - for stdin (default)")
    p_assess.add_argument("--format", choices=("json", "text"), default="json")
    p_assess.set_defaults(func=cmd_assess)
    p_criteria = sub.add_parser("criteria", help="list every instrument with its version and citation")
    p_criteria.add_argument("--format", choices=("json", "text"), default="json")
    p_criteria.set_defaults(func=cmd_criteria)
    p_trend = sub.add_parser("trend", help="serial panels: one assessment per time point, changes, first time met")
    p_trend.add_argument("file", nargs="?", default="-", help="series JSON or CSV file, or - for stdin (default)")
    p_trend.add_argument("--format", choices=("json", "text"), default="json")
    p_trend.add_argument(
        "--format-in",
        choices=("auto", "json", "csv"),
        default="auto",
        help="input format (auto: CSV when FILE ends in .csv, else JSON)",
    )
    p_trend.set_defaults(func=cmd_trend)
    return parser


def main(argv: list[str] | None = None, stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
    stdin, stdout = stdin or sys.stdin, stdout or sys.stdout
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed its usage message
        return EXIT_UNREADABLE if exc.code else EXIT_OK
    try:
        return args.func(args, stdin, stdout)
    except InputError as exc:
        sys.stderr.write(f"mas_screen: {exc}\n")
        return EXIT_UNREADABLE
    except CriteriaDataError as exc:
        sys.stderr.write(f"mas_screen: criteria data error (installation is broken): {exc}\n")
        return EXIT_DATA_BROKEN
