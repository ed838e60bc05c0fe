"""Siar's shared library: contracts, runtime, connectors and the embedded dev stack."""

__version__ = "0.1.0"
