"""Reading a panel time as typed: ISO dates and times with an optional offset, bounded work per value;
ambiguous day/month forms refused."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

# ------------------------------------------------------------------------------------------ times

_LOOSE_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:([ T])(\d{1,2})(:\d{2}(?::\d{2}(?:\.\d+)?)?)?)?(.*)$")
_SLASHED = re.compile(r"^\d{1,2}[./]\d{1,2}[./]\d{2,4}")
_YEAR_SLASHED = re.compile(r"^\d{4}/\d{1,2}/\d{1,2}(\D|$)")
_TAIL = re.compile(r"^(Z|[+-]\d{2}(:?\d{2})?)?$")


class TimeError(ValueError):
    pass


MAX_TIME_CHARS = 64


@dataclass(frozen=True, slots=True)
class ParsedTime:
    value: datetime
    date_only: bool


def parse_time(text: str) -> ParsedTime:
    """ISO 8601 date or date-time, with light normalisation; raises TimeError with a reason."""
    if len(text) > MAX_TIME_CHARS:  # bounded work: no date-time is this long
        raise TimeError(f"longer than {MAX_TIME_CHARS} characters")
    s = " ".join(text.split())
    if not s:
        raise TimeError("no time")
    if _SLASHED.match(s):
        raise TimeError("day and month order is ambiguous in this form; write it as YYYY-MM-DD (e.g. 2026-03-01 08:00)")
    s = s.upper().replace(" Z", "Z")
    if _YEAR_SLASHED.match(s):  # 2026/03/01: year first is unambiguous
        s = s.replace("/", "-")
    match = _LOOSE_DATE.match(s)
    if match and _TAIL.match(match.group(7).strip()):  # pad single digits: 2026-3-1 8:00 → 2026-03-01T08:00
        year, month, day, sep, hour, rest, tail = match.groups()
        s = f"{year}-{int(month):02d}-{int(day):02d}"
        if sep:
            s += f"T{int(hour):02d}{rest or ':00'}"
        s += tail.strip()
    try:
        value = datetime.fromisoformat(s)
    except ValueError as exc:
        reason = str(exc).removeprefix("Invalid isoformat string: ")
        detail = "" if reason.startswith("'") else f" ({reason})"
        raise TimeError(f"not an ISO 8601 date or time{detail}; use YYYY-MM-DD or YYYY-MM-DD HH:MM") from exc
    date_only = "T" not in s and value.hour == value.minute == value.second == value.microsecond == 0
    return ParsedTime(value, date_only)


def format_time(value: datetime) -> str:
    """ISO 8601 to the minute (seconds only when given); the UTC offset when there is one."""
    spec = "minutes" if value.second == 0 and value.microsecond == 0 else "auto"
    return value.isoformat(timespec=spec)


def _offset_text(offset: timedelta | None) -> str:
    if offset is None:
        return ""
    total = int(offset.total_seconds() // 60)
    sign = "-" if total < 0 else "+"
    return f"{sign}{abs(total) // 60:02d}:{abs(total) % 60:02d}"


# ----------------------------------------------------------------------------------------- numbers
