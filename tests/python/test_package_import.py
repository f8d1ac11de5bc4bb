"""What `import dagster_dms` costs and exposes."""

from __future__ import annotations

import subprocess
import sys


def _run(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_the_client_does_not_import_dagster() -> None:
    out = _run(
        "import sys, dagster_dms\n"
        "from dagster_dms import DmsClient, DmsError\n"
        "print('dagster' in sys.modules)"
    )
    assert out == "False"


def test_the_component_is_imported_on_first_use_and_listed() -> None:
    out = _run(
        "import sys, dagster_dms\n"
        "assert 'AWSDMSComponent' in dir(dagster_dms)\n"
        "component = dagster_dms.AWSDMSComponent\n"
        "from dagster_dms import DmsRunConfig\n"
        "print(component.__name__, DmsRunConfig.__name__, 'dagster' in sys.modules)"
    )
    assert out == "AWSDMSComponent DmsRunConfig True"


def test_an_unknown_name_is_an_attribute_error() -> None:
    out = _run(
        "import dagster_dms\n"
        "try:\n"
        "    dagster_dms.NoSuchThing\n"
        "except AttributeError as error:\n"
        "    print(error)\n"
    )
    assert "NoSuchThing" in out
