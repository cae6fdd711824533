"""Errors raised by the recognition package (drawn in controller/errors.py)."""

from __future__ import annotations


class InferenceError(Exception):
    """Root of every error raised by ``inference``."""


class ModelError(InferenceError):
    """A model file is missing or unusable; ``path`` names it."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"model {path}: {message}")
        self.path = path
