"""Sightline web package."""
