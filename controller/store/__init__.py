"""The store: schema, migrations and repository functions. All SQL lives here."""
