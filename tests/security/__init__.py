"""Security tests: the issue-15 probe campaign's findings, kept as regression tests."""
