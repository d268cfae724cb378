"""servicelevel: service level management for contact centers.

The public API is listed here, and ``tests/test_exported_members.py`` fails when it drifts.
"""

from servicelevel.errors import (
    ContractError,
    InputError,
    ServiceLevelError,
    SourceFormatError,
    StoreError,
    UnknownNameError,
)

__version__ = "0.1.0"

__all__ = [
    "ContractError",
    "InputError",
    "ServiceLevelError",
    "SourceFormatError",
    "StoreError",
    "UnknownNameError",
    "__version__",
]
