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

from click.testing import CliRunner, Result

from controller.cli import main

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
