"""The benchmark-only page-run timing (mas_screen/ui/run_times.py): silent unless MAS_RUN_TIMES=1,
and then only the page's name and times, never a value."""

from __future__ import annotations

import pytest

from mas_screen.ui import run_times


def test_silent_by_default(monkeypatch, capsys):
    monkeypatch.delenv("MAS_RUN_TIMES", raising=False)
    with run_times.reported("assess"):
        pass
    assert capsys.readouterr().err == ""


def test_one_line_per_run_even_when_the_run_stops_early(monkeypatch, capsys):
    monkeypatch.setenv("MAS_RUN_TIMES", "1")
    with pytest.raises(RuntimeError), run_times.reported("assess"):  # st.rerun / st.stop end a run this way
        raise RuntimeError("stopped")
    (line,) = capsys.readouterr().err.splitlines()
    name, page, start, wall, cpu = line.split()
    assert (name, page) == ("mas-run", "assess")
    assert float(start) > 0 and float(wall) >= 0 and float(cpu) >= 0
