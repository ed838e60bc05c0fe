"""``python -m siar_inbox``."""

from siar_inbox.main import run

run()
