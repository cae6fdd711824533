"""The store: schema, migrations and repository functions. All SQL lives here.

Nothing outside this package imports SQLAlchemy: the rest of the controller holds an
``Engine`` only as an opaque handle (re-exported here for type annotations), calls
the repository modules, and sees database failures as ``StoreError``s
(``StoreUnavailable``, ``Conflict``, ``NotFound``) from ``controller.errors``.
"""

from sqlalchemy import Engine

__all__ = ["Engine"]
