"""Generate (``--write``) or check each service's committed AsyncAPI document."""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path
from typing import Any

from faststream.specification import AsyncAPI

from siar.runtime.settings import PlatformSettings

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ("scheduler", "publisher", "inbox", "analytics", "vault")
# Fixed values so the document does not depend on the machine generating it.
PLATFORM = PlatformSettings(env="test", kafka_bootstrap="kafka:9092")
FIXED_KEK = {1: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}


def document(service: str) -> dict[str, Any]:
    """The AsyncAPI 3.0 document FastStream generates for ``service``."""
    settings_mod = importlib.import_module(f"siar_{service}.settings")
    main_mod = importlib.import_module(f"siar_{service}.main")
    extra: dict[str, Any] = {"kek_keys": FIXED_KEK} if service == "vault" else {}
    settings = settings_mod.Settings(platform=PLATFORM, **extra)
    app = main_mod.create_app(settings)
    spec = AsyncAPI(
        app.state.runtime.broker,
        title=app.title,
        version=app.version,
        description=app.description,
    )
    doc: dict[str, Any] = json.loads(spec.to_specification().to_json())
    return doc


def path_of(service: str) -> Path:
    """Where a service's document is committed."""
    return ROOT / "services" / service / "asyncapi.json"


def render(doc: dict[str, Any]) -> str:
    """Stable text form."""
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def main() -> int:
    """Write the documents, or report which are stale."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help="regenerate the committed files")
    args = parser.parse_args()
    stale = []
    for service in SERVICES:
        text = render(document(service))
        path = path_of(service)
        if args.write:
            path.write_text(text, encoding="utf-8")
        elif not path.exists() or path.read_text(encoding="utf-8") != text:
            stale.append(service)
    for service in stale:
        print(f"stale AsyncAPI document: {path_of(service)} (run `make asyncapi`)")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
