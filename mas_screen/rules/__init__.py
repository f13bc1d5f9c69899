"""One module per published instrument; each supplies how its items combine."""

from mas_screen.rules import ferritin_esr, hlh2004, hscore, mas2016, mh_score, ms_score, ohi, parodi2009
from mas_screen.rules.base import Instrument

INSTRUMENTS: dict[str, Instrument] = {
    m.INSTRUMENT.id: m.INSTRUMENT for m in (mas2016, ms_score, mh_score, hscore, hlh2004, ferritin_esr, parodi2009, ohi)
}

__all__ = ["INSTRUMENTS", "Instrument"]
