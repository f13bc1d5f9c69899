"""Reading what people type: numbers, a unit written in a cell, yes/no answers, JSON text.

Every value that enters MAS Screen — typed on a page, in a JSON file, a CSV or Parquet cell, a FHIR
Observation, an alert level — is read here, with bounded work per value (contract "Number spelling"):

- a number is read from at most 32 characters (`MAX_NUMBER_CHARS`), and an exponent only within
  ±30 with at most 15 significant digits; anything longer or larger is `not_a_number` before it
  is parsed further, so no value can make the process convert thousands of digits;
- "." is the decimal point and "," only a thousands separator in well-formed groups of three after
  a non-zero leading group ("20,000", "1,234.5"); a space (also no-break and thin spaces) is a
  thousands separator in the same groups ("20 000"), never anything else ("1 5" is not 15). With
  the decimal-comma setting "," and "." swap roles and nothing else changes;
- a spelling whose only separator is one "," or "." followed by exactly three digits ("12.500",
  "12,500") is read by the rule above, and `ParsedNumber.other` carries the other locale's reading
  so that the caller can say when both are plausible for the analyte (`ambiguous_number`);
- numbers are shown (`format_number`) and echoed (`echo`) in bounded text.

One function reads one value (`read_number`, `split_unit`, `read_yes_no`, `read_json`); one reads a
whole column with Arrow kernels (`read_number_column`, `split_unit_column`) and gives, cell by cell,
exactly what the single-value functions give, or hands the cell back to them (kind 2).
"""

from __future__ import annotations

import json
import re
import reprlib
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

MAX_NUMBER_CHARS = 32  # a number as typed (after trimming spaces), censoring sign included
MAX_EXPONENT = 30  # "1e30" is read, "1e31" is not
MAX_SIGNIFICANT = 15  # digits of an exponent form's mantissa
MAX_CELL_CHARS = 64  # a lab cell with its unit ("19.164651 ng/mL")
MAX_UNIT_CHARS = 32  # a unit as typed
ECHO_CHARS = 40  # typed text echoed in messages beyond this is cut with an ellipsis

GROUP_SPACES = " \u00a0\u202f\u2009"  # space, no-break space, narrow no-break space, thin space
_SWAP = str.maketrans(",.", ".,")
_CENSORED = re.compile(r"^(>=|<=|≥|≤|>|<)\s*(.*)$", re.DOTALL)
_CENSOR_OPS = {"≥": ">=", "≤": "<="}
# The decimal-point grammar (the decimal-comma setting swaps "," and "." before it is applied).
_PLAIN = re.compile(r"^([+-]?)(\d+(?:\.\d*)?|\.\d+)(?:[eE]([+-]?\d+))?$")
_GROUPED = re.compile(
    rf"^[+-]?[1-9][0-9]{{0,2}}(?:(?P<sep>[,{GROUP_SPACES}])[0-9]{{3}})(?:(?P=sep)[0-9]{{3}})*(?:\.[0-9]+)?$"
)
_AMBIGUOUS = re.compile(r"^([+-]?)([1-9][0-9]{0,2})([.,])([0-9]{3})$")


class NotANumber(ValueError):
    """The value cannot be read as a number; the message says why (it completes '… is <message>')."""


@dataclass(frozen=True, slots=True)
class ParsedNumber:
    """A number as typed: exact (`op` None) or censored (`op` one of > >= < <=).

    `other`: for a spelling that reads differently in the other locale ("12.500" is 12.5 here and
    12500 with a decimal comma), that other reading; None otherwise.
    """

    value: Decimal
    op: str | None = None
    other: Decimal | None = None


# ------------------------------------------------------------------------------------- numbers


def _grouping_hint(decimal_comma: bool) -> str:
    if decimal_comma:
        return (
            "not a number: with the decimal-comma setting '.' is read only as a thousands separator in groups "
            "of three (20.000); write decimals with a comma (0,5)"
        )
    return (
        "not a number: ',' is read only as a thousands separator in groups of three (20,000), not as a "
        "decimal comma; write decimals with a point (0.5), or turn on the decimal-comma setting"
    )


def _exponent_ok(mantissa: str, exponent: str) -> str | None:
    """Why an exponent form is refused (None when it is read)."""
    digits = exponent.lstrip("+-").lstrip("0")
    if len(digits) > 2 or int(exponent) > MAX_EXPONENT or int(exponent) < -MAX_EXPONENT:
        return f"not a number: an exponent beyond ±{MAX_EXPONENT} is not read"
    significant = Decimal(mantissa).normalize().as_tuple().digits if mantissa.strip(".0") else ()
    if len(significant) > MAX_SIGNIFICANT:
        return f"not a number: an exponent form is read with at most {MAX_SIGNIFICANT} significant digits"
    return None


def _read_text(text: str, decimal_comma: bool) -> ParsedNumber:
    text = text.strip()
    if len(text) > MAX_NUMBER_CHARS:
        raise NotANumber(f"not a number (longer than {MAX_NUMBER_CHARS} characters; not read)")
    op = None
    match = _CENSORED.match(text)
    if match:
        op = _CENSOR_OPS.get(match.group(1), match.group(1))
        text = match.group(2).strip()
    t = text.translate(_SWAP) if decimal_comma else text
    plain = _PLAIN.match(t)
    if plain is not None:
        if plain.group(3) is not None:
            why = _exponent_ok(plain.group(2), plain.group(3))
            if why is not None:
                raise NotANumber(why)
        value = Decimal(t)
    elif _GROUPED.match(t):
        value = Decimal(t.translate({ord(c): None for c in "," + GROUP_SPACES}))
    elif "," in t:
        raise NotANumber(_grouping_hint(decimal_comma))
    elif any(c in t for c in GROUP_SPACES) and any(c.isdigit() for c in t):
        raise NotANumber("not a number: a space inside a number is read only between groups of three digits (20 000)")
    else:
        raise NotANumber("not a number")
    other = None
    ambiguous = _AMBIGUOUS.match(t)
    if ambiguous is not None:
        sign, lead, sep, tail = ambiguous.groups()
        whole = Decimal(f"{sign}{lead}{tail}")
        other = whole if sep == "." else whole.scaleb(-3)
    return ParsedNumber(value, op, other)


def read_number(raw: object, *, decimal_comma: bool = False) -> ParsedNumber:
    """One value as a number: a JSON/Python number, or text (censored, grouped, exponent).

    Raises NotANumber. Work is bounded whatever `raw` is: text is trimmed and measured before any
    pattern is applied, an integer is measured by its bit length, a float by its repr.
    """
    if isinstance(raw, bool) or raw is None:
        raise NotANumber("not a number")
    if isinstance(raw, int):
        if raw.bit_length() > 106:  # 2**106 ≈ 8e31: more than 32 digits
            raise NotANumber(f"not a number (longer than {MAX_NUMBER_CHARS} digits; not read)")
        return ParsedNumber(Decimal(raw))
    if isinstance(raw, float):
        if raw != raw or raw in (float("inf"), float("-inf")):
            raise NotANumber("not a finite number")
        text = repr(raw)  # a float's repr always uses a point
        point = text.find(".")
        if "e" not in text and len(text) <= MAX_NUMBER_CHARS and len(text) - point != 4:
            # A plain decimal whose point is not followed by exactly three digits: _read_text would
            # find it plain and not ambiguous; read it directly (most JSON lab values).
            return ParsedNumber(Decimal(text))
        return _read_text(text, decimal_comma=False)
    if not isinstance(raw, str):
        raise NotANumber("not a number")
    return _read_text(raw, decimal_comma)


def is_number(raw: object, *, decimal_comma: bool = False) -> bool:
    try:
        read_number(raw, decimal_comma=decimal_comma)
    except NotANumber:
        return False
    return True


def format_number(value: Decimal | float | int) -> str:
    """Plain text without exponent or trailing zeros: 2500, 1.76, 0.0001. Bounded: a value beyond
    ±1e40 (or below 1e-40) is written with an exponent, and more than 40 digits are rounded to 15."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        if value.bit_length() > 130:
            return _huge_integer(value)
        return str(value)
    d = value if isinstance(value, Decimal) else Decimal(repr(value))
    text = str(d)
    if len(text) <= 29 and "E" not in text and "N" not in text and "n" not in text:
        # Plain notation of at most 28 digits (what normalize() keeps exactly): the same text as the
        # general path below with trailing zeros dropped, without its arithmetic (cards show many).
        if "." in text:
            text = text.rstrip("0").removesuffix(".")
        return "0" if text == "-0" else text
    if not d.is_finite():
        return str(d).lower()
    adjusted = d.adjusted()
    if adjusted > 40 or adjusted < -40 or len(d.as_tuple().digits) > 40:
        return _scientific(d)
    if d == d.to_integral_value():
        return f"{int(d)}"
    return format(d.normalize(), "f")


def _scientific(d: Decimal) -> str:
    """1.5e+45: at most 15 significant digits, no context arithmetic (nothing can overflow)."""
    sign, digits, _ = d.as_tuple()
    text = "".join(map(str, digits[:MAX_SIGNIFICANT])).rstrip("0") or "0"
    mantissa = text[0] + (f".{text[1:]}" if len(text) > 1 else "")
    return f"{'-' if sign else ''}{mantissa}e{d.adjusted():+d}"


def _huge_integer(value: int) -> str:
    digits = int(value.bit_length() * 0.30103) + 1
    return f"{'-' if value < 0 else ''}an integer of about {digits:,} digits"


def shorten(text: str, limit: int = ECHO_CHARS) -> str:
    """`text`, cut with an ellipsis (and its length said) beyond `limit` characters."""
    if len(text) <= limit:
        return text
    return f"{text[: limit - 1]}… ({len(text):,} characters)"


_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxlist, _REPR.maxdict, _REPR.maxstring, _REPR.maxother = 6, 8, 8, ECHO_CHARS, ECHO_CHARS


def echo(raw: object) -> str:
    """What was typed, as bounded text for a message: '3.2', '>40000', 'elevated', 'true'."""
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, int):
        return format_number(raw)
    if isinstance(raw, float):
        return format_number(raw) if raw == raw and abs(raw) != float("inf") else repr(raw)
    if isinstance(raw, str):
        return shorten(raw)
    return shorten(_REPR.repr(raw))


def echo_with_unit(raw: object, unit: str | None) -> str:
    """What the user typed, for messages: '3.2 mg/dL', '>40000 ng/mL', 'elevated', 'true'."""
    text = echo(raw)
    unit = shorten(unit) if unit else unit
    if unit and not text.rstrip().endswith(unit):
        return f"{text} {unit}".strip()
    return text


# ------------------------------------------------------------------------------ units in cells

# A number (possibly censored) followed by a unit: the unit holds a letter, "/", "%" or "°"
# ("3.6 g/L", "150 10^9/L", "120/mm3"); "1 000" is a number with a thousands space, not a unit.
_CELL_WITH_UNIT = re.compile(r"^\s*((?:[<>≤≥]=?)?\s*[-+]?\d[\d.,]*(?:[eE][-+]?\d+)?)\s*((?=[^\s]*[^\d\s.,])\S.*?)\s*$")
_UNIT_CHARS = re.compile(r"[A-Za-zµμ°º/%]")
_EXPONENT = re.compile(r"^[eE][-+]?\d+$")


def split_unit(text: str) -> tuple[str, str | None]:
    """A cell that may name its own unit: '3.6 g/L' → ('3.6', 'g/L'), '150 10^9/L' → ('150',
    '10^9/L'); a number alone (an exponent is not a unit: '1e400' stays whole), or anything else,
    → (text stripped, None). The same in both number spellings.

    The one reading of a cell with a unit, shared by the batch and trend CSV readers and the Trends
    page. Bounded: a cell longer than MAX_CELL_CHARS is not split (it is then not a number either).
    """
    stripped = text.strip()
    if len(stripped) > MAX_CELL_CHARS:
        return stripped, None
    match = _CELL_WITH_UNIT.match(stripped)
    if match and _UNIT_CHARS.search(match.group(2)) and not _EXPONENT.match(match.group(2)):
        return match.group(1).strip(), match.group(2).strip()
    return stripped, None


# ------------------------------------------------------------------------------------- yes / no

YES_WORDS = frozenset({"true", "yes", "y", "1", "t"})
NO_WORDS = frozenset({"false", "no", "n", "0", "f"})
UNKNOWN_WORDS = frozenset({"", "unknown", "not known", "na", "n/a", "nk", "?", "-", "null", "none"})


class NotYesNo(ValueError):
    """The value is not a yes/no answer."""


def read_yes_no(raw: object) -> bool | None:
    """A yes/no answer: JSON true/false/null, or one of the words (case-insensitive) yes/no,
    true/false, y/n, t/f, 1/0 and the not-known words (blank, unknown, n/a, …) → None.

    Strict and the same everywhere (JSON, CSV, Parquet): numbers (1, 1.0), "on"/"off" and other
    words are not answers; raises NotYesNo with a message naming what is accepted.
    """
    if raw is None or isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and len(raw) <= 20:
        word = " ".join(raw.split()).lower()
        if word in YES_WORDS:
            return True
        if word in NO_WORDS:
            return False
        if word in UNKNOWN_WORDS:
            return None
    accepted = "true/false, yes/no, y/n, 1/0 as text, or null/unknown for not known"
    if isinstance(raw, int | float):
        raise NotYesNo(f"the number {echo(raw)} is not a yes/no answer ({accepted})")
    raise NotYesNo(f"{echo(raw)!r} is not a yes/no answer ({accepted})")


# ------------------------------------------------------------------------------------------ JSON


class JsonError(ValueError):
    """The text cannot be read as JSON. The message says why in one line and completes
    "the input is …" ("not JSON (…)", "nested too deeply …", "refused: the key … appears twice …")."""


class JsonNumberText(str):
    """A JSON number kept as its text because it cannot be read as a bounded number (thousands of
    digits, 1e309, NaN, Infinity): the value is then `not_a_number`, never a traceback."""


def _json_int(token: str) -> int | str:
    return int(token) if len(token) <= MAX_NUMBER_CHARS else JsonNumberText(token)


def _json_float(token: str) -> float | str:
    if len(token) <= MAX_NUMBER_CHARS:
        exponent = token.lower().partition("e")[2]
        if not exponent or (len(exponent.lstrip("+-")) <= 3 and abs(int(exponent)) <= MAX_EXPONENT):
            value = float(token)
            if value not in (float("inf"), float("-inf")):
                return value
    return JsonNumberText(token)


def _json_object(pairs: list[tuple[str, Any]]) -> dict:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        dupes = [k for k, _ in pairs if k in seen or seen.add(k)]  # type: ignore[func-returns-value]
        raise JsonError(
            f"refused: the key {shorten(dupes[0])!r} appears twice in one JSON object (which value is meant is unclear)"
        )
    return out


def read_json(text: str) -> Any:
    """JSON text → Python values, bounded: a number token that cannot be read as a bounded number
    (more than 32 characters, an exponent beyond ±30, NaN, Infinity) is kept as `JsonNumberText`
    for the value reader to refuse; a duplicate key in an object, malformed text or nesting beyond
    the parser's limit raise JsonError."""
    try:
        return json.loads(
            text,
            parse_int=_json_int,
            parse_float=_json_float,
            parse_constant=JsonNumberText,
            object_pairs_hook=_json_object,
        )
    except JsonError:
        raise
    except json.JSONDecodeError as exc:
        raise JsonError(f"not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from exc
    except RecursionError as exc:
        raise JsonError("nested too deeply to be read as JSON") from exc
    except ValueError as exc:  # pragma: no cover - number tokens are bounded by the hooks above
        raise JsonError(f"not readable as JSON: {str(exc).split(':')[0]}") from exc


# ------------------------------------------------------------------------------------ by columns

COLUMN_OPS = (None, ">", ">=", "<", "<=")
_ARROW_NUMBER = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
_ARROW_FAST = f"^(?:[<>]=? ?)?{_ARROW_NUMBER}$"
_ARROW_AMBIGUOUS = r"^[+-]?[1-9][0-9]{0,2}\.[0-9]{3}$"
# The cells `split_unit` splits, in the one form Arrow reads here: a plain number starting with a
# digit (optionally censored), at least one space, then the unit (spaces inside allowed, "mg/L FEU").
_ARROW_WITH_UNIT = r"^\s*(?P<number>(?:[<>]=? ?)?[+-]?[0-9]+(?:[.,][0-9]*)?)\s+(?P<unit>\S(?:.*\S)?)\s*$"


@dataclass(slots=True)
class NumberColumn:
    """A column of cells read as numbers by Arrow kernels.

    kind: 0 empty, 1 read here (a plain decimal, optionally censored, of at most 15 characters),
    2 left to `read_number` (words, exponents, grouping, longer numbers, …).
    For kind 1: op (index into COLUMN_OPS), x (the float), numbers (the number's text without the
    censoring sign, in decimal-point spelling), other (the other locale's reading where the
    spelling is ambiguous, else NaN: exact, as the typed digits are an integer or a thousandth).
    """

    kind: np.ndarray
    op: np.ndarray
    x: np.ndarray
    numbers: pa.Array
    other: np.ndarray


def swap_separators(texts: pa.Array) -> pa.Array:
    """Cells with "," and "." exchanged (the decimal-comma setting read with the point grammar)."""
    import pyarrow.compute as pc

    marked = pc.replace_substring(texts, ",", "\x00")
    swapped = pc.replace_substring(pc.replace_substring(marked, ".", ","), "\x00", ".")
    # A cell that holds the marker itself keeps its text: with a NUL it is never read as a number here,
    # and the single-value reader (which swaps exactly) decides it.
    return pc.if_else(pc.match_substring(texts, "\x00"), texts, swapped)


def _bools(arr) -> np.ndarray:
    """A boolean Arrow array as numpy, read from its bit buffer (nulls read as False)."""
    import pyarrow.compute as pc

    from mas_screen.kernel.inputs.arrow import to_numpy

    return to_numpy(pc.fill_null(arr, False) if arr.null_count else arr)


def _text_bytes(texts) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(start offsets, byte lengths, data bytes) of a string array, as numpy views of its buffers."""
    import numpy as np
    import pyarrow as pa

    n = len(texts)
    kind = np.int64 if pa.types.is_large_string(texts.type) else np.int32
    offsets = np.frombuffer(texts.buffers()[1], kind)[texts.offset : texts.offset + n + 1].astype(np.int64)
    data = texts.buffers()[2]
    data = np.frombuffer(data, np.uint8) if data is not None and data.size else np.zeros(1, np.uint8)
    return offsets[:-1], np.diff(offsets), data


_GT, _LT, _EQ, _DOT, _PLUS, _MINUS, _ZERO = (ord(c) for c in "><=.+-0")


def read_number_column(texts: pa.Array, *, decimal_comma: bool = False) -> NumberColumn:
    """`read_number` over a column of cell texts (no nulls; "" is empty), by Arrow kernels.

    Cells this reads (kind 1) give exactly the value, censoring and ambiguity `read_number` gives;
    every other non-empty cell is kind 2, for the caller to read one distinct text at a time.
    A column of digits and points only is cast at once (the cast refuses "." or "1.2.3"); any other
    column is checked by one regular expression, its censoring sign, length and ambiguous spelling
    read from the text bytes, and cast with the other cells masked (no copy of the texts).
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from mas_screen.kernel.ops import select

    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks()
    from mas_screen.kernel.inputs.arrow import numbers as arrow_bools
    from mas_screen.kernel.inputs.arrow import text

    if texts.null_count:
        texts = pc.fill_null(texts, text("", texts.type))
    n = len(texts)
    # A cell longer than any lab cell is never read here (kind 2: `read_number` refuses it by its
    # length alone); blanking it first keeps the kernels below from walking megabytes of text.
    starts, lengths, data = _text_bytes(texts)
    empty = lengths == 0
    long = lengths > MAX_CELL_CHARS
    if long.any():
        texts = pc.if_else(arrow_bools(long), text("", texts.type), texts)
    if decimal_comma:
        texts = swap_separators(texts)
    if long.any() or decimal_comma:
        starts, lengths, data = _text_bytes(texts)
    blank = lengths == 0  # empty, or blanked for its length
    op = np.zeros(n, np.int8)
    numbers = texts
    x = _plain_column(texts, starts, lengths, data, blank)
    if x is not None:  # digits and points only, each cell a number: the grammar holds everywhere
        fast = ~blank & (lengths <= MAX_SIGNIFICANT)
        x = select(fast, x, 0.0)
    else:
        fast = _bools(pc.match_substring_regex(texts, _ARROW_FAST))  # a blank cell never matches
        first = data[np.minimum(starts, len(data) - 1)]  # the first byte of every non-empty text
        censored = np.flatnonzero(fast & ((first == _GT) | (first == _LT)))
        if len(censored):
            eq = data[starts[censored] + 1] == _EQ  # a fast censored cell has a second byte
            op[censored] = select(first[censored] == _GT, select(eq, 2, 1), select(eq, 4, 3))
            numbers = pc.utf8_ltrim(texts, characters="<>= ")
            starts, lengths, data = _text_bytes(numbers)
        fast &= lengths <= MAX_SIGNIFICANT  # at most 15 significant digits
        x = _cast_where(numbers, fast) if fast.any() else np.zeros(n)
    kind = (~empty).view(np.int8) + (~empty & ~fast).view(np.int8)  # 0 empty, 1 fast, 2 other
    return _with_ambiguity(NumberColumn(kind, op, x, numbers, np.full(n, np.nan)), fast, starts, lengths, data)


def _plain_column(texts, starts, lengths, data, blank):
    """The floats of a column whose cells are all digits and points and each a number (the common
    lab column): one cast, no regular expression. None when any cell is anything else."""
    import numpy as np
    import pyarrow as pa

    n = len(texts)
    if n == 0 or blank.all():
        return None
    used = data[starts[0] : starts[-1] + lengths[-1]]
    # digits (bytes 48-57: uint8 arithmetic wraps every other byte above 9) or '.' (46): ten times
    # faster than a table lookup
    if not (((used - np.uint8(48)) <= 9) | (used == 46)).all():
        return None
    try:
        return _cast_where(texts, ~blank)
    except pa.ArrowInvalid:  # ".", "1.2.3": the grammar decides cell by cell
        return None


def _with_ambiguity(column: NumberColumn, fast, starts, lengths, data) -> NumberColumn:
    """Fill `other` where the spelling is ambiguous ("12.500": also 12500 in the other locale)."""
    import numpy as np

    x = column.x
    # _ARROW_AMBIGUOUS: an optional sign, a first digit 1-9 and at most two more, then "." and three
    # digits (5 to 8 characters); the grammar checked before allows no other character. Length and
    # the point's place first (two tests on every cell), the rest on the few cells left.
    maybe = np.flatnonzero(fast & (lengths >= 5) & (lengths <= 8))
    if len(maybe):
        at, size = starts[maybe], lengths[maybe]
        dot = data[at + size - 4] == _DOT
        maybe, at, size = maybe[dot], at[dot], size[dot]
        ax = np.abs(x[maybe])
        digits = 1 + (ax >= 10) + (ax >= 100)  # of the integer part, for 1 <= |x| < 1000
        signed = (data[at] == _PLUS) | (data[at] == _MINUS)
        ok = (ax >= 1) & (ax < 1000) & (size == signed + digits + 4) & (data[at + signed] != _ZERO)
        ambiguous = maybe[ok]
        column.other[ambiguous] = np.rint(x[ambiguous] * 1000.0)  # the typed digits, exactly
    return column


def _cast_where(numbers, fast: np.ndarray) -> np.ndarray:
    """The cells marked `fast` cast to float64 (0 elsewhere): the same buffers with a validity
    bitmap, so the other cells are neither copied nor parsed."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if numbers.null_count:  # pragma: no cover - callers pass texts without nulls
        from mas_screen.kernel.inputs.arrow import text

        numbers = pc.fill_null(numbers, text("", numbers.type))
    pad = numbers.offset
    valid = np.packbits(np.concatenate([np.ones(pad, bool), fast]) if pad else fast, bitorder="little")
    buffers = numbers.buffers()
    masked = pa.Array.from_buffers(numbers.type, len(numbers), [pa.py_buffer(valid), *buffers[1:]], offset=pad)
    # Filled before leaving Arrow, and read from the buffer: pyarrow's own conversion imports pandas.
    from mas_screen.kernel.inputs.arrow import number, to_numpy

    return to_numpy(pc.fill_null(pc.cast(masked, pa.float64()), number(0.0, pa.float64())))


def split_unit_column(texts: pa.Array) -> tuple[np.ndarray, pa.Array, pa.Array]:
    """`split_unit` over a column, for the cells Arrow can split exactly as it does: a plain number
    (optionally censored, starting with a digit), spaces, then the unit.

    Returns (split, number texts, unit texts): `split` marks the cells split here; elsewhere the
    texts are "" and the caller reads the cell whole. Unit and number texts are as typed (read the
    number with `read_number_column`). The caller must still check that the unit contains a unit
    character, is not an exponent, and is a unit it knows.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    from mas_screen.kernel.inputs.arrow import numbers, text, to_numpy

    short = to_numpy(pc.utf8_length(texts)) <= MAX_CELL_CHARS
    parts = pc.extract_regex(pc.if_else(numbers(short), texts, text("", texts.type)), _ARROW_WITH_UNIT)
    split = to_numpy(pc.is_valid(parts)) & short
    empty = text("")
    numbers = pc.fill_null(pc.cast(pc.struct_field(parts, "number"), pa.large_string()), empty)
    units = pc.fill_null(pc.cast(pc.struct_field(parts, "unit"), pa.large_string()), empty)
    return split, numbers, units


def is_cell_unit(unit: str) -> bool:
    """Whether `split_unit` takes this text (after a number and a space) as the cell's unit."""
    return _UNIT_CHARS.search(unit) is not None and _EXPONENT.match(unit) is None


__all__ = [
    "COLUMN_OPS",
    "MAX_CELL_CHARS",
    "MAX_EXPONENT",
    "MAX_NUMBER_CHARS",
    "MAX_SIGNIFICANT",
    "MAX_UNIT_CHARS",
    "JsonError",
    "JsonNumberText",
    "NotANumber",
    "NotYesNo",
    "NumberColumn",
    "ParsedNumber",
    "echo",
    "echo_with_unit",
    "format_number",
    "is_cell_unit",
    "is_number",
    "read_json",
    "read_number",
    "read_number_column",
    "read_yes_no",
    "shorten",
    "split_unit",
    "split_unit_column",
    "swap_separators",
]
