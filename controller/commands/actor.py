"""Who is at the terminal, as the audit log names them."""

from __future__ import annotations

import getpass


def cli_actor() -> str:
    """Name the person at the terminal in the audit log."""
    return f"cli:{getpass.getuser()}"
