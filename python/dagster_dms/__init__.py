"""dagster-dms: orchestrate AWS Database Migration Service from Dagster.

The public entry point for code is :class:`DmsClient`, a typed client for DMS, CloudWatch and
CloudWatch Logs running on the project's C++ core. Errors are :class:`dagster_dms.errors.DmsError`.
"""

from dagster_dms._native import __version__
from dagster_dms.client import DmsClient
from dagster_dms.errors import (
    AccessDeniedError,
    ConfigurationError,
    CredentialsError,
    DmsError,
    InvalidResourceStateError,
    ProtocolError,
    ResourceNotFoundError,
    ServiceError,
    TaskFailedError,
    ThrottlingError,
    TransportError,
    WaitTimeoutError,
)

__all__ = [
    "AccessDeniedError",
    "ConfigurationError",
    "CredentialsError",
    "DmsClient",
    "DmsError",
    "InvalidResourceStateError",
    "ProtocolError",
    "ResourceNotFoundError",
    "ServiceError",
    "TaskFailedError",
    "ThrottlingError",
    "TransportError",
    "WaitTimeoutError",
    "__version__",
]
