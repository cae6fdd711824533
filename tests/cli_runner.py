"""The ``sightline`` command run in-process through click's runner, as a shell would run it.

Starting ``python -m controller`` costs seconds of imports per call on a 2-core
machine; a test that runs the command ten times spent most of its time there.
In-process, the command sees exactly the environment it is given (as a
subprocess would) and leaves no trace behind: the environment, the root
logger (``main`` reconfigures it for the command's stderr) and the levels it
sets are put back after each call. A real process is kept where it is the
point (signals, a crash, the installed console script).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

from click.testing import CliRunner, Result

from controller.accounts import tokens, users
from controller.cli import main
from controller.sealing import bind_instance_secret, instance_secret
from controller.settings import SecuritySettings
from controller.store import users as user_repo
from controller.store.engine import make_engine
from controller.store.migrate import upgrade

PASSWORD = "Correct-Horse-Battery-9"

# The loggers whose level ``main`` sets (besides the root logger).
_LOGGERS = ("", "httpx", "httpcore", "alembic")


@contextmanager
def _restored_process_state() -> Iterator[None]:
    environ = dict(os.environ)
    loggers = [logging.getLogger(name) for name in _LOGGERS]
    levels = [logger.level for logger in loggers]
    root = logging.getLogger()
    handlers = list(root.handlers)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(environ)
        for handler in root.handlers:
            if handler not in handlers:
                handler.close()  # the command's handler, on the runner's closed stream
        root.handlers[:] = handlers
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def sightline(env: dict[str, str], *args: str, stdin: str = "") -> Result:
    """Run ``sightline ARGS`` with exactly ``env`` as its environment; stdout and stderr apart.

    ``result.exit_code`` is what the process would exit with; an unexpected
    exception is re-raised here with its traceback rather than hidden in the result.
    """
    with _restored_process_state():
        unset = {name: None for name in os.environ if name not in env}
        result = CliRunner().invoke(main, list(args), input=stdin, env={**unset, **env},
                                    catch_exceptions=False)
    return result


def signed_in(env: dict[str, str], username: str, role: str = "administrator", *,
              trained: bool = True) -> dict[str, str]:
    """``env`` with ``SIGHTLINE_TOKEN`` of a new user of ``role`` (trained unless told).

    For tests of what a command does, not of signing in (tests/controller/test_cli_login.py
    drives ``sightline login`` itself): the account is made and its token issued by the
    same functions ``bootstrap``, ``user training`` and ``login`` end with.
    """
    engine = make_engine(env["SIGHTLINE_DATABASE_URL"], pool_size=1)
    try:
        bind_instance_secret(engine, instance_secret(Path(env["SIGHTLINE_DATA_DIR"])))
        upgrade(engine)
        rules = SecuritySettings()
        users.add_user(engine, rules, username=username, role=role, password=PASSWORD,
                       actor="test")
        if trained:
            users.record_training(engine, username=username, course="ALPR 462",
                                  completed_on=date.today() - timedelta(days=1),
                                  trainer="Sgt. Trainer", actor="test")
        token, _ = tokens.issue(engine, rules, user_repo.get(engine, username),
                                client_addr="cli:test")
    finally:
        engine.dispose()
    return {**env, "SIGHTLINE_TOKEN": token}
