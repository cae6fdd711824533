"""Sightline inference package."""
