"""pytest-kolena: ML model regression testing with pytest, on the kolena.workflow API, offline."""

__version__ = "0.1.0"
