"""``python -m siar_console``."""

from siar_console.main import run

run()
