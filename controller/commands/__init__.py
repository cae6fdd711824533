"""Command groups of the ``sightline`` CLI, one module per area; ``controller.cli`` adds them."""
