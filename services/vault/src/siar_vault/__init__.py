"""Siar vault service."""
