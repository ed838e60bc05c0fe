"""Siar publisher service."""
