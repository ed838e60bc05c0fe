"""Siar analytics service."""
