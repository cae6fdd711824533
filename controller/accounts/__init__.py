"""Users, passwords, sessions, the training gate, the role table and the calling user."""

from controller.accounts.caller import Caller, authorize, record

__all__ = ["Caller", "authorize", "record"]
