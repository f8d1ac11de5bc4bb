"""Runs a command with its stderr on a pseudo-terminal, as a user at a terminal sees it: what a
live progress line draws (carriage returns, erase-to-end-of-line) comes back byte for byte."""

from __future__ import annotations

import os
import pty
import subprocess
from collections.abc import Sequence
from typing import Any


def run_with_terminal_stderr(
    argv: Sequence[str], **options: Any
) -> tuple[subprocess.CompletedProcess[str], bytes]:
    """The finished process (stdout captured as text) and everything it wrote to the terminal."""
    controller, terminal = pty.openpty()
    try:
        process = subprocess.run(
            list(argv), stdout=subprocess.PIPE, stderr=terminal, text=True, **options
        )
        os.close(terminal)
        terminal = -1
        written = b""
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the terminal side is closed: everything has been read
                break
            if not chunk:
                break
            written += chunk
    finally:
        if terminal >= 0:
            os.close(terminal)
        os.close(controller)
    return process, written
