"""The installed wheel, used the way a user does: run by a fresh virtualenv's Python from a
directory outside the checkout, with only the wheel (and boto3) installed.

Checks, in order: the package imports from the virtualenv; ``dmsctl --version`` reports the
installed version; ``dms-local serve`` answers a signed DescribeEndpoints from boto3; every ELF
file of the installed package resolves its shared libraries inside the wheel or among the
manylinux policy's system libraries; and (unless ``--no-postgres``) ``AWSDMSComponent``, loaded
from a defs folder, materializes a full-load task that moves rows between two PostgreSQL
databases.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

# The libraries every manylinux policy lets a wheel take from the system (PEP 600; auditwheel's
# policy files), plus the dynamic loader and the vDSO, which ldd also lists.
SYSTEM_LIBRARIES = {
    "libgcc_s.so.1",
    "libstdc++.so.6",
    "libm.so.6",
    "libdl.so.2",
    "librt.so.1",
    "libc.so.6",
    "libnsl.so.1",
    "libutil.so.1",
    "libpthread.so.0",
    "libresolv.so.2",
    "libX11.so.6",
    "libXext.so.6",
    "libXrender.so.1",
    "libICE.so.6",
    "libSM.so.6",
    "libGL.so.1",
    "libgobject-2.0.so.0",
    "libgthread-2.0.so.0",
    "libglib-2.0.so.0",
    "libz.so.1",
    "libexpat.so.1",
    "ld-linux-x86-64.so.2",
    "ld-linux-aarch64.so.1",
    "linux-vdso.so.1",
}

ROWS = 2500


def step(message: str) -> None:
    print(f"wheel smoke: {message}", flush=True)


def check_import(checkout: Path) -> Path:
    import dagster_dms

    package = Path(dagster_dms.__file__).resolve().parent
    assert Path(sys.prefix).resolve() in package.parents, f"imported from {package}"
    assert checkout not in package.parents, f"imported from the checkout: {package}"
    step(f"import dagster_dms from {package}")
    return package


def check_dmsctl_version() -> None:
    dmsctl = Path(sys.executable).parent / "dmsctl"
    out = subprocess.run([str(dmsctl), "--version"], capture_output=True, text=True, check=True)
    expected = f"dmsctl {metadata.version('dagster-dms')}"
    assert out.stdout.strip() == expected, f"{out.stdout!r} != {expected!r}"
    step(out.stdout.strip())


def elf_files(root: Path) -> list[Path]:
    found = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            with path.open("rb") as f:
                if f.read(4) == b"\x7fELF":
                    found.append(path)
    return found


def check_shared_libraries(package: Path) -> None:
    """ldd on every ELF file the wheel installed (the extension, the executables and the
    libraries auditwheel copied): each dependency resolves inside the installed wheel or is one
    of the system libraries the manylinux policy allows."""
    site = package.parent
    roots = [p for p in site.iterdir() if p.name.startswith("dagster_dms")]
    files = [f for root in roots if root.is_dir() for f in elf_files(root)]
    kinds = {f.parent.name for f in files}
    assert {"dagster_dms", "dagster_dms.libs", "dagster_dms.scripts"} <= kinds, kinds
    problems = []
    for elf in files:
        out = subprocess.run(["ldd", str(elf)], capture_output=True, text=True, check=True)
        for line in out.stdout.splitlines():
            name, _, target = line.strip().partition(" => ")
            name = name.split(" (")[0]
            resolved = target.split(" (")[0].strip()
            if "not found" in target:
                problems.append(f"{elf.name}: {name} not found")
            elif resolved.startswith("/") and Path(resolved).resolve().is_relative_to(site):
                continue
            elif Path(name).name not in SYSTEM_LIBRARIES:
                problems.append(f"{elf.name}: {name} => {resolved} (outside the wheel)")
    assert not problems, "\n".join(problems)
    step(f"ldd: {len(files)} ELF files resolve inside the wheel or to manylinux system libraries")


def check_dms_local_and_component(work: Path, postgres: bool) -> None:
    from dagster_dms.testing import DmsLocalServer

    server = DmsLocalServer(
        work / "dms-local",
        extra_args=["--task-start-delay-ms", "100"],
        log_file=work / "dms-local.log",
    )
    with server:
        dms = server.boto3_client()
        endpoints = dms.describe_endpoints()
        assert endpoints["ResponseMetadata"]["HTTPStatusCode"] == 200
        assert endpoints["Endpoints"] == [], endpoints
        step(f"dms-local serve answered a signed DescribeEndpoints on {server.url}")
        if postgres:
            materialize_full_load(server, dms, work)


def materialize_full_load(server: object, dms: object, work: Path) -> None:
    from dagster_dms.testing import PgCluster

    # In the system temporary directory: when run as root, the cluster runs as the postgres
    # user, who cannot enter `work`.
    with PgCluster() as pg:
        pg.create_database("smoke_source")
        pg.create_database("smoke_target")
        pg.psql(
            "CREATE TABLE public.items (id bigint PRIMARY KEY, label text);"
            f"INSERT INTO public.items SELECT g, 'item ' || g FROM generate_series(1, {ROWS}) g;",
            "smoke_source",
        )
        create_task(dms, pg.port, pg.user)
        os.environ.update(server.environment())  # type: ignore[attr-defined]
        materialize_from_defs_folder("dms_task_smoke_items")
        copied = pg.psql("SELECT count(*) FROM public.items", "smoke_target").strip()
        assert copied == str(ROWS), f"{copied} rows in the target, expected {ROWS}"
        step(f"AWSDMSComponent from a defs folder materialized a full load of {ROWS} rows")


def create_task(dms: object, port: int, user: str) -> None:
    client: object = dms

    def endpoint(name: str, kind: str, database: str) -> str:
        created = client.create_endpoint(  # type: ignore[attr-defined]
            EndpointIdentifier=name,
            EndpointType=kind,
            EngineName="postgres",
            ServerName="127.0.0.1",
            Port=port,
            DatabaseName=database,
            Username=user,
            Password="smoke",
        )
        return str(created["Endpoint"]["EndpointArn"])

    source = endpoint("smoke-source", "source", "smoke_source")
    target = endpoint("smoke-target", "target", "smoke_target")
    instance = client.create_replication_instance(  # type: ignore[attr-defined]
        ReplicationInstanceIdentifier="smoke", ReplicationInstanceClass="dms.t3.micro"
    )["ReplicationInstance"]["ReplicationInstanceArn"]
    wait_for(
        lambda: (
            client.describe_replication_instances()["ReplicationInstances"][0][  # type: ignore[attr-defined]
                "ReplicationInstanceStatus"
            ]
            == "available"
        ),
        "the replication instance to become available",
    )
    rules = {
        "rules": [
            {
                "rule-type": "selection",
                "rule-id": "1",
                "rule-name": "items",
                "object-locator": {"schema-name": "public", "table-name": "items"},
                "rule-action": "include",
            }
        ]
    }
    client.create_replication_task(  # type: ignore[attr-defined]
        ReplicationTaskIdentifier="smoke-items",
        SourceEndpointArn=source,
        TargetEndpointArn=target,
        ReplicationInstanceArn=instance,
        MigrationType="full-load",
        TableMappings=json.dumps(rules),
    )
    wait_for(
        lambda: client.describe_replication_tasks()["ReplicationTasks"][0]["Status"] == "ready",  # type: ignore[attr-defined]
        "the replication task to become ready",
    )


def materialize_from_defs_folder(asset: str) -> None:
    import dagster as dg
    from dagster.components.testing import create_defs_folder_sandbox

    from dagster_dms import AWSDMSComponent

    attributes = {
        "aws_region": "{{ env('AWS_REGION') }}",
        "aws_access_key_id": "{{ env('AWS_ACCESS_KEY_ID') }}",
        "aws_secret_access_key": "{{ env('AWS_SECRET_ACCESS_KEY') }}",
        "import_replication_tasks": True,
    }
    with create_defs_folder_sandbox() as sandbox:
        defs_path = sandbox.scaffold_component(
            component_cls=AWSDMSComponent,
            defs_yaml_contents={"type": "dagster_dms.AWSDMSComponent", "attributes": attributes},
        )
        with sandbox.load_component_and_build_defs(defs_path=defs_path) as (component, _):
            assert isinstance(component, AWSDMSComponent)
            asyncio.run(component.refresh_state(sandbox.project_root))
        with sandbox.load_component_and_build_defs(defs_path=defs_path) as (_, defs):
            result = dg.materialize([defs.get_assets_def(asset)], selection=[asset])
            assert result.success


def wait_for(condition: object, what: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout} s for {what}")
        time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--checkout", type=Path, required=True, help="must not be imported from")
    parser.add_argument("--no-postgres", action="store_true", help="skip the full-load run")
    args = parser.parse_args()
    package = check_import(args.checkout.resolve())
    check_dmsctl_version()
    if sys.platform.startswith("linux"):
        check_shared_libraries(package)
    else:
        step("ldd check skipped: not Linux (delocate checks macOS wheels when it repairs them)")
    with tempfile.TemporaryDirectory(prefix="wheel-smoke-") as work:
        check_dms_local_and_component(Path(work), postgres=not args.no_postgres)
    step("passed")


if __name__ == "__main__":
    main()
