"""Loopback stand-ins for the services the credential chain talks to: STS (query protocol, XML),
the ECS container endpoint, EC2 IMDSv2 and the IAM Identity Center portal."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

EXPIRATION = "2099-01-01T00:00:00Z"
IMDS_TOKEN = "imds-session-token"


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    form: dict[str, list[str]]


@dataclass
class CredentialEndpoints:
    """One server, routed by path: /sts (POST form), /container, /latest/... (IMDS), /federation
    (SSO). Each answers with keys whose id names the source, so a test can tell which was used."""

    requests: list[Seen] = field(default_factory=list)
    container_token: str = "container-auth-token"

    def start(self) -> str:
        endpoints = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def reply(self, status: int, body: str, content_type: str = "application/json") -> None:
                payload = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def handle_any(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length).decode()
                split = urlsplit(self.path)
                form = parse_qs(body) if self.command == "POST" else parse_qs(split.query)
                endpoints.requests.append(
                    Seen(
                        self.command,
                        split.path,
                        {k.lower(): v for k, v in self.headers.items()},
                        form,
                    )
                )
                if split.path == "/" and self.command == "POST":
                    self.sts(form)
                elif split.path == "/container":
                    if self.headers.get("Authorization") != endpoints.container_token:
                        self.reply(401, '{"message": "bad token"}')
                        return
                    self.reply(200, json.dumps(keys("CONTAINER")))
                elif split.path == "/latest/api/token" and self.command == "PUT":
                    self.reply(200, IMDS_TOKEN, "text/plain")
                elif split.path.startswith("/latest/meta-data/iam/security-credentials"):
                    if self.headers.get("X-aws-ec2-metadata-token") != IMDS_TOKEN:
                        self.reply(401, "", "text/plain")
                    elif split.path.rstrip("/").endswith("security-credentials"):
                        self.reply(200, "instance-role", "text/plain")
                    else:
                        self.reply(200, json.dumps({"Code": "Success", **keys("IMDS")}))
                elif split.path == "/federation/credentials":
                    if self.headers.get("x-amz-sso_bearer_token") != "sso-access-token":
                        self.reply(401, '{"message": "bad token"}')
                        return
                    self.reply(
                        200,
                        json.dumps(
                            {
                                "roleCredentials": {
                                    "accessKeyId": "ASIASSO",
                                    "secretAccessKey": "sso-secret",
                                    "sessionToken": "sso-session",
                                    "expiration": 4070908800000,
                                }
                            }
                        ),
                    )
                else:
                    self.reply(404, '{"message": "no such route"}')

            def sts(self, form: dict[str, list[str]]) -> None:
                action = form.get("Action", [""])[0]
                role = form.get("RoleArn", [""])[0]
                source = "WEBIDENTITY" if action == "AssumeRoleWithWebIdentity" else "ASSUMED"
                result = f"{action}Result"
                self.reply(
                    200,
                    f"""<{action}Response xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <{result}>
    <Credentials>
      <AccessKeyId>ASIA{source}</AccessKeyId>
      <SecretAccessKey>{source.lower()}-secret</SecretAccessKey>
      <SessionToken>{source.lower()}-session</SessionToken>
      <Expiration>{EXPIRATION}</Expiration>
    </Credentials>
    <AssumedRoleUser><Arn>{role}/session</Arn><AssumedRoleId>AROA:session</AssumedRoleId></AssumedRoleUser>
  </{result}>
  <ResponseMetadata><RequestId>sts-1</RequestId></ResponseMetadata>
</{action}Response>""",
                    "text/xml",
                )

            do_GET = do_POST = do_PUT = handle_any

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def keys(source: str) -> dict[str, str]:
    return {
        "AccessKeyId": f"ASIA{source}",
        "SecretAccessKey": f"{source.lower()}-secret",
        "Token": f"{source.lower()}-session",
        "Expiration": EXPIRATION,
    }
