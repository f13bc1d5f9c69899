"""Cases an educator adds to a browser session: one YAML file, or a folder of them zipped.

Bounded work whatever arrives: the upload's size, the number of files in a zip, each file's size
as actually read (a zip header can lie about it), the total and the compression ratio (a zip bomb
expands kilobytes into gigabytes) are all capped before anything is parsed. Nothing is written
to disk: the zip is read from memory and each case is validated from its text.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from mas_screen.faces.teaching.loading import read_case_bytes
from mas_screen.faces.teaching.schema import MAX_CASE_BYTES, Case, CaseDataError, Problem

MAX_UPLOAD_BYTES = 2_000_000  # the upload itself (a zip of 100 cases is ~300 kB)
MAX_ZIP_FILES = 100  # case files in one zip
MAX_ZIP_ENTRIES = 1_000  # entries of any kind (folders, other files) listed in one zip
MAX_TOTAL_BYTES = 5_000_000  # all case files of one zip, uncompressed
MAX_RATIO = 100  # uncompressed / compressed per file; YAML compresses ~5:1


@dataclass(slots=True)
class UploadResult:
    cases: list[Case] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # entries that are not case files


def _refuse(name: str, message: str) -> UploadResult:
    return UploadResult(problems=[Problem(name, "", None, message)])


def read_upload(name: str, raw: bytes, reserved_ids: Iterable[str] = ()) -> UploadResult:
    """The cases in one uploaded file (.yaml/.yml, or .zip of them), each validated; every problem
    is reported with its file, field and line. A case whose id is reserved (already in the
    library or this session) is refused."""
    reserved = set(reserved_ids)
    if len(raw) > MAX_UPLOAD_BYTES:
        return _refuse(name, f"larger than {MAX_UPLOAD_BYTES // 1_000_000} MB: too large to be cases")
    lower = name.lower()
    if lower.endswith((".yaml", ".yml")):
        out = UploadResult()
        _add(out, PurePosixPath(name).name, raw, reserved, stem=None)
        return out
    if lower.endswith(".zip"):
        return _read_zip(name, raw, reserved)
    return _refuse(name, "not a case file: upload a .yaml case or a .zip of a folder of cases")


def _add(out: UploadResult, file: str, raw: bytes, reserved: set[str], stem: str | None) -> None:
    try:
        case = read_case_bytes(raw, file, stem=stem, reserved_ids=reserved | {c.id for c in out.cases})
    except CaseDataError as exc:
        out.problems += exc.problems
        return
    out.cases.append(case)


def _read_zip(name: str, raw: bytes, reserved: set[str]) -> UploadResult:
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as exc:
        return _refuse(name, f"not a readable zip file ({exc})")
    if len(infos) > MAX_ZIP_ENTRIES:
        return _refuse(name, f"{len(infos)} entries: a zip of cases holds at most {MAX_ZIP_ENTRIES}")
    out = UploadResult()
    wanted = []
    for info in infos:
        path = PurePosixPath(info.filename)
        hidden = any(part.startswith((".", "__MACOSX")) for part in path.parts)
        if info.is_dir() or hidden:
            continue
        if path.suffix.lower() not in (".yaml", ".yml"):
            out.ignored.append(info.filename)
            continue
        wanted.append(info)
    if len(wanted) > MAX_ZIP_FILES:
        return _refuse(name, f"{len(wanted)} case files: upload at most {MAX_ZIP_FILES} at a time")
    if not wanted:
        return _refuse(name, "the zip holds no .yaml case files")
    total = 0
    for info in wanted:
        file = PurePosixPath(info.filename).name
        if info.flag_bits & 0x1:
            out.problems.append(Problem(file, "", None, "encrypted: cannot be read"))
            continue
        if info.file_size > MAX_CASE_BYTES:
            out.problems.append(Problem(file, "", None, f"larger than {MAX_CASE_BYTES // 1000} kB: not a case file"))
            continue
        if info.compress_size and info.file_size / info.compress_size > MAX_RATIO:
            out.problems.append(Problem(file, "", None, "compressed more than 100:1: refused as a possible zip bomb"))
            continue
        try:
            with archive.open(info) as fh:
                data = fh.read(MAX_CASE_BYTES + 1)  # never trust the header's size
        except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError) as exc:
            out.problems.append(Problem(file, "", None, f"cannot be read from the zip ({exc})"))
            continue
        if len(data) > MAX_CASE_BYTES:
            out.problems.append(Problem(file, "", None, f"larger than {MAX_CASE_BYTES // 1000} kB: not a case file"))
            continue
        total += len(data)
        if total > MAX_TOTAL_BYTES:
            out.problems.append(
                Problem(name, "", None, f"more than {MAX_TOTAL_BYTES // 1_000_000} MB of cases: the rest were not read")
            )
            break
        _add(out, file, data, reserved, stem=PurePosixPath(file).stem)
    return out
