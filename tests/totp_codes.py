"""TOTP codes for test sign-ins that the server accepts however long the run has taken."""

from __future__ import annotations

import time

import pyotp
from sqlalchemy import Engine

from controller.store import users as user_repo


def next_code(engine: Engine, username: str, secret: str) -> str:
    """A code the server must accept for this user's next sign-in.

    The server (``controller.accounts.sessions.check_totp``) accepts the code of
    the 30 s step its clock is in or of one step either side, and only for a step
    later than the last one the user signed in with (replay protection, read here
    from the database, so that every client of the user agrees). The code is the
    current step's or, when that one is used, the next step's: the server accepts
    either for as long as the request takes less than a step to reach it, at any
    point of the step. A third sign-in inside one step waits for the clock to
    reach the next step; a code from the step before is never used, since the
    server refuses it if its clock turns over before the request arrives.
    """
    totp = pyotp.TOTP(secret)
    last = user_repo.get(engine, username)["totp_last_step"]
    while True:
        now = time.time()
        current = int(now // totp.interval)
        step = current if last is None else max(current, int(last) + 1)
        if step <= current + 1:
            return totp.generate_otp(step)
        time.sleep((step - 1) * totp.interval - now)  # until the clock is in step - 1
