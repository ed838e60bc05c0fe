"""Siar console: the web app social media managers work in, and its API proxy."""
