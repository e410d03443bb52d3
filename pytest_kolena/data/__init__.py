"""Test suites from metadata CSVs, local or on any fsspec filesystem (s3:// through s3fs)."""

from .errors import SuiteError
from .storage import StorageOptions
from .stratify import Stratify
from .suite import list_suites, load_suite

__all__ = ["StorageOptions", "Stratify", "SuiteError", "list_suites", "load_suite"]
