"""Command line: `python -m mas_screen assess FILE|-` (or `--fhir` for a FHIR Bundle),
`python -m mas_screen criteria`, `python -m mas_screen trend FILE|-` (serial panels, JSON per
contract "Series", or CSV), `python -m mas_screen batch IN -o OUT` (cohort screening, CSV/Parquet),
`python -m mas_screen verify FILE` (recompute a saved result: exit 0 reproduced, 1 not),
`python -m mas_screen serve-cds` (the CDS Hooks service, mas_screen.faces.cds_hooks) and
`python -m mas_screen cases check DIR` (teaching cases, for CI: exit 0 all pass, 1 any fails, 2
DIR unreadable).

Exit 0 when an assessment was produced (field warnings included); exit 2, with one line on
stderr and nothing on stdout, when the input cannot be read at all (contract "Command line").
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import re
import sys
import time
from typing import TYPE_CHECKING, TextIO

from mas_screen.criteria.errors import CriteriaDataError

if TYPE_CHECKING:
    from pydantic import ValidationError

    from mas_screen.domain.models import PatientInput
    from mas_screen.domain.series import SeriesInput, SeriesWarning

# Each command imports what it needs when it runs: `batch` never loads the single-patient
# explanation and rendering layers (about 0.2 s of a cohort run's start-up).

EXIT_OK, EXIT_NOT_REPRODUCED, EXIT_UNREADABLE, EXIT_DATA_BROKEN = 0, 1, 2, 3


class InputError(Exception):
    """The input cannot be read at all."""


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
MAX_MESSAGE = 1000


def one_line(text: str) -> str:
    """A message that stays one short line: control characters from the input (a newline inside a
    misspelt field name, a terminal escape) are shown escaped, never acted on; a message naming
    thousands of unknown keys is cut."""
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"


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


def load_json(text: str) -> object:
    """parsing.read_json with every way it can fail as an InputError (exit 2), never a traceback:
    malformed text, a duplicate key, nesting deeper than the parser's limit. A number token that
    cannot be read as a bounded number (5,000 digits, 1e309, NaN) is kept as text: that value
    gets a `not_a_number` warning and the rest is assessed."""
    from mas_screen.kernel.inputs.parsing import JsonError, read_json

    try:
        return read_json(text)
    except JsonError as exc:
        raise InputError(f"input is {exc}") from exc


def _json_object(text: str, decimal_comma: bool, holding: str) -> dict:
    """The input as a JSON object (InputError naming what it should hold), with the decimal-comma
    setting of the command line."""
    data = load_json(text)
    if not isinstance(data, dict):
        raise InputError(f"input must be a JSON object with {holding}")
    return {**data, "decimal_comma": True} if decimal_comma else data


def _validated(model, data: dict):
    """`model.model_validate(data)`, a wrong shape worded as one InputError line."""
    from pydantic import ValidationError

    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InputError(f"input has the wrong shape: {_validation_message(exc)}") from exc


def parse_patient(text: str, decimal_comma: bool = False) -> PatientInput:
    from mas_screen.domain.models import PatientInput

    return _validated(PatientInput, _json_object(text, decimal_comma, "'context' and/or 'labs'"))


def parse_fhir(text: str, decimal_comma: bool = False) -> PatientInput:
    """A FHIR Bundle → the patient to assess (the latest panel); problems go to stderr."""
    from mas_screen.faces.fhir import bundle_to_inputs
    from mas_screen.faces.fhir_read import FhirError

    try:
        imported = bundle_to_inputs(text)
    except FhirError as exc:
        raise InputError(str(exc)) from exc
    for problem in imported.problems:
        sys.stderr.write(f"mas_screen: FHIR {problem.severity}: {problem.message}\n")
    if imported.series is not None:
        sys.stderr.write(
            f"mas_screen: FHIR: observations on {len(imported.times)} dates; assessed the latest panel "
            f"({imported.times[-1]}). The series is available from mas_screen.faces.fhir.bundle_to_inputs().\n"
        )
    if decimal_comma:  # FHIR numbers are JSON numbers: the setting changes nothing, said once
        sys.stderr.write("mas_screen: FHIR values are JSON numbers; --decimal-comma does not apply to them.\n")
    return imported.patient


def cmd_assess(args: argparse.Namespace, stdin: TextIO, stdout: TextIO) -> int:
    from mas_screen.faces.bedside import assess
    from mas_screen.render.text import render_text

    text = _read(args.file, stdin)
    patient = parse_fhir(text, args.decimal_comma) if args.fhir else parse_patient(text, args.decimal_comma)
    result = assess(patient)
    if args.format == "text":
        stdout.write(render_text(result))
    else:
        json.dump(result.model_dump(mode="json"), stdout, ensure_ascii=False, indent=2)
        stdout.write("\n")
    return EXIT_OK


def cmd_criteria(args: argparse.Namespace, stdin: TextIO, stdout: TextIO) -> int:
    from mas_screen.criteria.loading import criteria
    from mas_screen.criteria.references import full_citation

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


def parse_series_json(text: str, decimal_comma: bool = False) -> SeriesInput:
    from mas_screen.domain.series import SeriesInput

    data = _json_object(text, decimal_comma, "'context' and 'panels'")
    panels = data.get("panels")
    if panels is None:
        raise InputError(
            "input has no 'panels' (a series is {'context': {...}, 'panels': [{'time': ..., 'labs': {...}}]})"
        )
    if isinstance(panels, list) and not panels:
        raise InputError("input has no panels ('panels' is empty)")
    return _validated(SeriesInput, data)


def parse_series_csv(text: str, decimal_comma: bool = False) -> tuple[SeriesInput, list[SeriesWarning], list[int]]:
    from pydantic import ValidationError

    from mas_screen.kernel.inputs.columns import ColumnError, read_series_csv, unknown_columns_message

    try:
        table = read_series_csv(text, decimal_comma=decimal_comma)
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
    from mas_screen.faces.trends import assess_series
    from mas_screen.kernel.inputs.columns import with_lines
    from mas_screen.render.text import render_trend_text

    text = _read(args.file, stdin)
    fmt = args.format_in
    if fmt == "auto":
        fmt = "csv" if str(args.file).lower().endswith(".csv") else "json"
    if fmt == "csv":
        series, problems, lines = parse_series_csv(text, args.decimal_comma)
        result = assess_series(series, problems=problems)
        with_lines(result.warnings, lines)
    else:
        result = assess_series(parse_series_json(text, args.decimal_comma))
    if args.format == "text":
        stdout.write(render_trend_text(result))
    else:
        json.dump(result.model_dump(mode="json"), stdout, ensure_ascii=False, indent=2)
        stdout.write("\n")
    return EXIT_OK


def _progress_bar(enabled: bool):
    """A rich progress bar on stderr (None when disabled): update(done, total, rows)."""
    if not enabled:
        return None
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    progress = Progress(
        TextColumn("screening"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TextColumn("{task.fields[rows]:,} rows"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    task = progress.add_task("batch", total=None, rows=0)
    progress.start()

    def update(done: int, total: int, rows: int) -> None:
        progress.update(task, completed=done, total=total, rows=rows)

    update.stop = progress.stop  # type: ignore[attr-defined]
    return update


def render_batch_summary(summary: dict, out: str, seconds: float) -> str:
    from mas_screen.criteria.loading import criteria

    rows = summary["rows"]
    rate = f", {rows / seconds:,.0f} rows/s" if seconds > 0 and rows else ""
    lines = [f"MAS Screen batch: {rows:,} rows screened in {seconds:.1f} s{rate} → {out}"]
    for key in ("mas_signal", "phlh_signal"):
        parts = " · ".join(f"{name} {count:,}" for name, count in summary[key].items())
        lines.append(f"{key}: {parts}")
    others = {iid: n for iid, n in (summary.get("other_population_met") or {}).items() if n}
    if others:
        parts = " · ".join(f"{iid} {n:,}" for iid, n in others.items())
        lines.append(f"other_population_met (indicative only): {parts}")
    lines.append(f"{'instrument':<14}{'met':>12}{'not_met':>12}{'indeterminate':>15}")
    unconfirmed = criteria().policy.unconfirmed_values  # their results carry the qualifier on every face
    for iid, counts in summary["status"].items():
        name = f"{iid}*" if iid in unconfirmed.instruments else iid
        lines.append(f"{name:<14}{counts['met']:>12,}{counts['not_met']:>12,}{counts['indeterminate']:>15,}")
    if any(iid in unconfirmed.instruments for iid in summary["status"]):
        pol = criteria().policy
        phlh = "; phlh_signal comes from it" if pol.phlh.instrument in unconfirmed.instruments else ""
        lines.append(f"* {unconfirmed.qualifier.strip('()')}{phlh}")
    warned = summary["rows_with_warnings"]
    share = f" ({100 * warned / rows:.1f}%)" if rows else ""
    lines.append(f"rows with warnings: {warned:,}{share}")
    codes = summary.get("warnings") or {}
    if codes:
        top = sorted(codes.items(), key=lambda kv: (-kv[1], kv[0]))[:8]
        lines.append("most frequent: " + ", ".join(f"{code} {count:,}" for code, count in top))
    if summary.get("ignored_columns"):
        lines.append("columns passed through unread: " + ", ".join(summary["ignored_columns"]))
    prov = summary.get("provenance")
    if prov:
        lines.append(
            f"provenance: MAS Screen {prov['tool_version']}, criteria SHA-256 {prov['criteria_sha256']}, "
            f"generated {prov['generated_at']} (also in the Parquet metadata and --summary-json)"
        )
    lines.append("Screening aid, not a diagnosis.")
    return "\n".join(lines) + "\n"


def cmd_batch(args: argparse.Namespace, stdin: TextIO, stdout: TextIO) -> int:
    from mas_screen.faces.cohort.reading import BatchError, open_input

    opened = None
    files = {"format_in": args.format_in, "format_out": args.format_out}
    if args.engine != "dask":  # reading starts now, on its own thread, while the screening code loads
        try:
            opened = open_input(args.input, args.output, **files, chunk_rows=args.chunk_rows)
        except BatchError as exc:
            raise InputError(str(exc)) from exc
    from mas_screen.faces.cohort import parse_blocksize, run_dask, run_file, tune_allocator

    if args.engine == "dask":
        try:  # checked before anything starts: one line, exit 2
            parse_blocksize(args.blocksize)
        except ValueError as exc:
            raise InputError(str(exc)) from exc
    tune_allocator()
    unknown = "ignore" if args.ignore_unknown else "error"
    started = time.perf_counter()
    try:
        if args.engine == "dask":
            summary = run_dask(
                args.input,
                args.output,
                **files,
                scheduler=args.scheduler,
                blocksize=args.blocksize,
                workers=args.workers,
                unknown=unknown,
                explain=args.explain,
                decimal_comma=args.decimal_comma,
                connect_timeout=args.scheduler_timeout,
            )
        else:
            show = args.progress if args.progress is not None else sys.stderr.isatty()
            bar = _progress_bar(show)
            try:
                summary = run_file(
                    args.input,
                    args.output,
                    **files,
                    chunk_rows=args.chunk_rows,
                    unknown=unknown,
                    progress=bar,
                    explain=args.explain,
                    decimal_comma=args.decimal_comma,
                    opened=opened,
                )
            finally:
                if bar is not None:
                    bar.stop()
    except BatchError as exc:
        raise InputError(str(exc)) from exc
    seconds = time.perf_counter() - started
    if args.summary_json:
        with open(args.summary_json, "w", encoding="utf-8") as fh:
            json.dump({**summary, "seconds": round(seconds, 3)}, fh, indent=2)
    stdout.write(render_batch_summary(summary, args.output, seconds))
    return EXIT_OK


def cmd_verify(args: argparse.Namespace, stdin: TextIO, stdout: TextIO) -> int:
    from mas_screen.faces.cli.verify import VerifyError, verify_text

    try:
        report = verify_text(_read(args.file, stdin))
    except VerifyError as exc:
        raise InputError(str(exc)) from exc
    stdout.write(report.text())
    return EXIT_OK if report.reproduced else EXIT_NOT_REPRODUCED


def cmd_serve_cds(args: argparse.Namespace, stdin: TextIO, stdout: TextIO) -> int:
    from mas_screen.faces.cds_hooks.server import ConfigError, serve

    try:
        return serve(host=args.host, port=args.port, insecure_dev=args.insecure_dev, config_path=args.config)
    except ConfigError as exc:
        raise InputError(str(exc)) from exc


def cmd_cases_check(args: argparse.Namespace, stdin: TextIO, stdout: TextIO) -> int:
    from pathlib import Path

    from mas_screen.faces.teaching.check import EXIT_UNREADABLE as CASES_UNREADABLE
    from mas_screen.faces.teaching.check import check_folder

    code, lines = check_folder(Path(args.dir))
    if code == CASES_UNREADABLE:
        sys.stderr.write(one_line(lines[0]) + "\n")
        return code
    stdout.write("\n".join(lines) + "\n")
    return code


def _positive(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be a positive number of rows")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 < value <= 600:
        raise argparse.ArgumentTypeError("must be a number of seconds between 0 and 600")
    return value


def _decimal_comma_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--decimal-comma",
        action="store_true",
        help='numbers written as text use "," as the decimal mark and "." between thousands (0,5; 1.234,5); '
        'without it "0,500" is not a number (never 500)',
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m mas_screen",
        description="MAS Screen: published MAS/HLH criteria applied to one panel (a screening aid, not a diagnosis).",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p_assess = sub.add_parser("assess", help="assess one patient (input JSON from FILE or stdin)")
    p_assess.add_argument("file", nargs="?", default="-", help="input JSON file, or - for stdin (default)")
    p_assess.add_argument("--format", choices=("json", "text"), default="json")
    p_assess.add_argument(
        "--fhir",
        action="store_true",
        help="FILE is a FHIR R4 Bundle of Observations (LOINC, UCUM) and an optional Patient (age)",
    )
    _decimal_comma_option(p_assess)
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
    _decimal_comma_option(p_trend)
    p_trend.set_defaults(func=cmd_trend)
    p_batch = sub.add_parser(
        "batch", help="cohort screening: a CSV or Parquet table (contract 'Batch' columns) → one result row per panel"
    )
    p_batch.add_argument("input", metavar="IN", help="input table (.csv or .parquet)")
    p_batch.add_argument("-o", "--output", metavar="OUT", required=True, help="output table (.csv or .parquet)")
    p_batch.add_argument("--format-in", choices=("auto", "csv", "parquet"), default="auto")
    p_batch.add_argument("--format-out", choices=("auto", "csv", "parquet"), default="auto")
    p_batch.add_argument(
        "--chunk-rows",
        type=_positive,
        default=None,
        help="stream the file in chunks of this many rows (memory bounded by the chunk; default: whole file "
        "when under 256 MB, else chunks of 500,000 rows)",
    )
    p_batch.add_argument("--ignore-unknown", action="store_true", help="pass unknown columns through unread")
    p_batch.add_argument(
        "--progress", action=argparse.BooleanOptionalAction, default=None, help="progress bar (default: on a terminal)"
    )
    p_batch.add_argument("--summary-json", metavar="FILE", help="also write the summary as JSON")
    p_batch.add_argument(
        "--explain",
        action="store_true",
        help="also each instrument's <id>_missing and the row's next_tests (as assess() gives them; slower)",
    )
    p_batch.add_argument("--engine", choices=("pandas", "dask"), default="pandas", help="dask: beyond one process")
    p_batch.add_argument("--scheduler", metavar="ADDRESS", help="dask: a running scheduler (default: a local cluster)")
    p_batch.add_argument("--workers", type=_positive, default=None, help="dask: local cluster workers (default: cores)")
    p_batch.add_argument("--blocksize", default="64MB", help="dask: CSV partition size (default 64MB)")
    p_batch.add_argument(
        "--scheduler-timeout",
        type=_seconds,
        default=5.0,
        metavar="SECONDS",
        help="dask: give up connecting to --scheduler after this long (default 5 s)",
    )
    _decimal_comma_option(p_batch)
    p_batch.set_defaults(func=cmd_batch)
    p_verify = sub.add_parser(
        "verify",
        help="recompute a saved result (assess or trend JSON) from its recorded input under the installed "
        "criteria: exit 0 reproduced, 1 not (naming each instrument that changed), 2 unreadable",
    )
    p_verify.add_argument("file", nargs="?", default="-", help="a saved result JSON, or - for stdin (default)")
    p_verify.set_defaults(func=cmd_verify)
    p_serve = sub.add_parser(
        "serve-cds", help="run the CDS Hooks service (patient-view and order-sign) for an EHR; see docs/cds-hooks.md"
    )
    p_serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p_serve.add_argument("--port", type=int, default=8700, help="port (default 8700)")
    p_serve.add_argument(
        "--insecure-dev",
        action="store_true",
        help="LOCAL TRIALS ONLY: accept requests without a signed JWT (prints a warning)",
    )
    p_serve.add_argument("--config", metavar="FILE", help="service configuration (YAML or JSON; docs/cds-hooks.md)")
    p_serve.set_defaults(func=cmd_serve_cds)
    p_cases = sub.add_parser("cases", help="teaching cases")
    cases_sub = p_cases.add_subparsers(dest="cases_command", required=True)
    p_check = cases_sub.add_parser(
        "check",
        help="validate every *.yaml case under DIR (schema with file, field and line; references; claims; "
        "published values): exit 0 all pass, 1 any fails, 2 DIR unreadable",
    )
    p_check.add_argument("dir", metavar="DIR")
    p_check.set_defaults(func=cmd_cases_check)
    return parser


def is_file_batch(argv: list[str]) -> bool:
    """Whether this command line is a batch on this machine (not dask). A process that runs only it
    may read the criteria's plain copy (no pydantic), and may end at once, without the interpreter's
    teardown: its work is done and its files are closed when main() returns, and freeing a screened
    cohort's heap and modules object by object costs ~0.1 s per run (issue 14) for nothing the
    operating system does not do at exit anyway."""
    quiet = io.StringIO()  # argparse prints help and usage errors: main() prints them, once
    try:
        with contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
            args, _ = build_parser().parse_known_args(argv)
    except SystemExit:
        return False
    return getattr(args, "func", None) is cmd_batch and args.engine != "dask"


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
        sys.stderr.write(f"mas_screen: {one_line(str(exc))}\n")
        return EXIT_UNREADABLE
    except CriteriaDataError as exc:
        sys.stderr.write(f"mas_screen: criteria data error (installation is broken): {one_line(str(exc))}\n")
        return EXIT_DATA_BROKEN
