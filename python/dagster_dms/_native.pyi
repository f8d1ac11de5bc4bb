"""
The dagster-dms C++ core (AWS plumbing, typed DMS/CloudWatch/Logs clients, task runner).
"""

from collections.abc import Sequence

class NativeClient:
    def __init__(
        self,
        region: str | None,
        profile: str | None,
        endpoint_url: str | None,
        access_key_id: str | None,
        secret_access_key: str | None,
        session_token: str | None,
        max_attempts: int | None,
        retry_mode: str | None,
        verify: bool,
        ca_bundle: str | None,
        connect_timeout: float | None,
        read_timeout: float | None,
    ) -> None: ...
    def invoke(self, service: str, operation: str, input: str) -> str: ...
    @property
    def region(self) -> str: ...
    def endpoint(self, service: str) -> str: ...
    def list_all(self, service: str, operation: str, input: str) -> str: ...
    def tags_for_resources(self, arns: Sequence[str]) -> str: ...
    def metric_data_all(self, input: str) -> str: ...
    def read_metrics(self, input: str) -> str: ...
    def watch_tasks(self, input: str) -> str: ...
    def cdc_metrics(self, input: str) -> str: ...
    def run_task(
        self, task: str, options: str, on_progress: object | None, should_stop: object | None
    ) -> str: ...
    def run_replication(
        self, config: str, options: str, on_progress: object | None, should_stop: object | None
    ) -> str: ...
    def discover(self, kind: str, options: str) -> str: ...
    def credentials_provider(self) -> str: ...

def sigv4_sign(
    method: str,
    url: str,
    headers: Sequence[tuple[str, str]],
    body: bytes,
    region: str,
    service: str,
    access_key_id: str,
    secret_access_key: str,
    session_token: str | None,
    epoch_seconds: float,
) -> dict[str, object]:
    """
    Signs a request with SigV4 as the clients do (for tests against botocore's signer).
    """

def identifier_pattern_warning(field: str, pattern: str) -> str | None: ...
def check_resource_filter(
    name_pattern: str | None, exclude_pattern: str | None, tags: str | None
) -> None: ...
def is_instance_available(status: str) -> bool: ...
def is_connection_failed(status: str) -> bool: ...
def is_table_errored(table_state: str) -> bool: ...
def valid_metrics_period(seconds: int) -> bool: ...

__version__: str
