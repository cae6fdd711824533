"""Fixtures for the recognition tests: the compiled models, once per session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from inference.pipeline import Recognizer


@pytest.fixture(scope="session")
def recognizer() -> Iterator[Recognizer]:
    """The production recognizer (stock models from the rapidocr wheel, CPU)."""
    yield Recognizer()
