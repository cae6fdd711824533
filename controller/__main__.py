"""``python -m controller`` is the ``sightline`` command."""

from controller.cli import main

main()
