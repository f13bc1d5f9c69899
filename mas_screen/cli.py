"""Command line: `python -m mas_screen assess FILE|-`, `python -m mas_screen criteria`.

Exit 0 when an assessment was produced (field warnings included); exit 2, with one line on
stderr and nothing on stdout, when the input cannot be read at all (contract "Command line").
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TextIO

from pydantic import ValidationError

from mas_screen.criteria_data import CriteriaDataError, criteria
from mas_screen.engine import assess
from mas_screen.models import Assessment, PatientInput
from mas_screen.references import full_citation
from mas_screen.report_text import render_text

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
