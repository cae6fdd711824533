"""Sightline cameras package."""
