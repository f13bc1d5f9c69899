"""Every browser-test wait, scaled from a page-ready time measured at the start of the session.

A fixed 30 s wait passes on an idle machine and fails on a busy one (issue 13, finding 10: the
suite failed while another CPU-heavy process ran). So the e2e session first measures how long this
machine takes to open the app once (server start excluded: goto → form usable), and each wait is
a multiple of that with a generous floor. An idle 2-core machine measures ~2–4 s (waits at their
floors); under a background load the waits grow with it. `MAS_SCREEN_E2E_READY_S` overrides the
measurement (e.g. to reproduce a run).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Waits:
    ready_s: float = 5.0  # the measured page-ready time (seconds)
    measured: bool = False

    def ms(self, factor: float, floor_s: float) -> int:
        return int(max(floor_s, factor * self.ready_s) * 1000)

    @property
    def action(self) -> int:
        """A click, a fill, an element appearing after a rerun."""
        return self.ms(10, 30)

    @property
    def page(self) -> int:
        """A page (or another page of the app) to open and become usable."""
        return self.ms(20, 60)

    @property
    def long(self) -> int:
        """Work the server does on request: PDF with its figure, a file screened, many sessions."""
        return self.ms(40, 120)


waits = Waits()

__all__ = ["Waits", "waits"]
