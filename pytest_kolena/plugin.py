"""The pytest plugin: loaded in every pytest run where pytest-kolena is installed, so it imports nothing heavy."""

from __future__ import annotations

import pytest


def pytest_report_header(config: pytest.Config) -> str:
    from . import __version__

    return f"kolena: pytest-kolena {__version__}"
