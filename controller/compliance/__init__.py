"""Audit packages and flags, retention, holds, sharing, court orders, program activation,
transparency.
"""
