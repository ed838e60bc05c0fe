"""Siar scheduler service."""
