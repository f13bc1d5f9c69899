"""MAS Screen: published criteria for macrophage activation syndrome, as a pure library.

from mas_screen import assess, PatientInput
result = assess(PatientInput.model_validate(data))
"""

from mas_screen.faces.bedside import assess
from mas_screen.models import Assessment, PatientInput

__all__ = ["Assessment", "PatientInput", "assess"]
__version__ = "0.1.0"
