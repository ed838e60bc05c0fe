"""``python -m siar_publisher``."""

from siar_publisher.main import run

run()
