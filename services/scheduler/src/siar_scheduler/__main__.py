"""``python -m siar_scheduler``."""

from siar_scheduler.main import run

run()
