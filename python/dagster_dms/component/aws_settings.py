"""The AWS settings of a component, and the one way a client is made from them."""

from __future__ import annotations

from dataclasses import dataclass, field

from dagster_dms.client import DmsClient


@dataclass(frozen=True)
class AwsSettings:
    """What to connect to and as whom; anything left out follows the environment like boto3.

    The secret parts never appear in a repr, a log line, metadata or the defs state.
    """

    region_name: str | None
    profile_name: str | None = None
    endpoint_url: str | None = None
    verify: bool | str = True
    max_attempts: int | None = None
    retry_mode: str | None = None
    aws_access_key_id: str | None = None
    aws_secret_access_key: str | None = field(default=None, repr=False)
    aws_session_token: str | None = field(default=None, repr=False)

    def client(self) -> DmsClient:
        """A new client: cheap (no network until the first call), so each run makes its own."""
        return DmsClient(
            region_name=self.region_name,
            profile_name=self.profile_name,
            endpoint_url=self.endpoint_url,
            aws_access_key_id=self.aws_access_key_id,
            aws_secret_access_key=self.aws_secret_access_key,
            aws_session_token=self.aws_session_token,
            max_attempts=self.max_attempts,
            retry_mode=self.retry_mode,
            verify=self.verify,
        )
