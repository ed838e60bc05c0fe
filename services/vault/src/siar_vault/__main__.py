"""``python -m siar_vault``."""

from siar_vault.main import run

run()
