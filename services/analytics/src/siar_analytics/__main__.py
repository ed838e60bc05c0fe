"""``python -m siar_analytics``."""

from siar_analytics.main import run

run()
