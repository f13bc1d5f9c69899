"""MAS Screen: published criteria for macrophage activation syndrome, as a pure library.

from mas_screen import assess, PatientInput
result = assess(PatientInput.model_validate(data))

The public names load on first use, so a face that needs only part of the library (the cohort
command line) does not pay for the rest at start-up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mas_screen.version import __version__

if TYPE_CHECKING:
    from mas_screen.domain.models import Assessment, PatientInput
    from mas_screen.faces.bedside import assess

__all__ = ["Assessment", "PatientInput", "__version__", "assess"]

_WHERE = {
    "assess": "mas_screen.faces.bedside",
    "Assessment": "mas_screen.domain.models",
    "PatientInput": "mas_screen.domain.models",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        import importlib

        value = getattr(importlib.import_module(_WHERE[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'mas_screen' has no attribute {name!r}")
