"""Siar inbox service."""
