"""The criteria's own error, in a module without pydantic: the command line catches it before it has
loaded anything heavy (a batch run starts reading its file first)."""

from __future__ import annotations


class CriteriaDataError(RuntimeError):
    """A criteria or reference file is missing or malformed."""


__all__ = ["CriteriaDataError"]
