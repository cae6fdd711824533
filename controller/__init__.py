"""Sightline controller package."""
