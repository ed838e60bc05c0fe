"""Where key-encryption keys come from: settings, a key file, or (later) a KMS.

A :class:`KekSource` answers with every key version it holds and the active one.
The keyring asks it again when it meets a version it does not know, so a vault
keeps running while ``siar vault rotate-kek`` adds a version and re-wraps.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

from siar_vault.errors import DecryptionFailed

Keys = tuple[dict[int, bytes], int]


class KekSource(Protocol):
    """A store of key-encryption keys (a KMS would implement this too)."""

    def load(self) -> Keys:
        """Every key version and the active one."""
        ...


class StaticKeks:
    """Keys given once (raw bytes)."""

    def __init__(self, keys: Mapping[int, bytes], active: int) -> None:
        self.keys = dict(keys)
        self.active = active

    @classmethod
    def from_base64(cls, keys: Mapping[int, str], active: int) -> StaticKeks:
        """Keys as settings hold them."""
        return cls({v: base64.b64decode(k) for v, k in keys.items()}, active)

    def load(self) -> Keys:
        """The keys as configured."""
        return dict(self.keys), self.active


class FileKeks:
    """Keys in a JSON file ``{"active": 2, "keys": {"1": "<b64>", "2": "<b64>"}}`` (0600)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> Keys:
        """Read the file."""
        raw = json.loads(self.path.read_text(encoding="utf-8"))
        keys = {int(v): base64.b64decode(k) for v, k in raw["keys"].items()}
        return keys, int(raw["active"])

    def add_version(self) -> int:
        """Generate a new key, make it active, and write the file atomically."""
        keys, active = self.load() if self.path.exists() else ({}, 0)
        version = max([active, *keys]) + 1
        keys[version] = secrets.token_bytes(32)
        body = {
            "active": version,
            "keys": {str(v): base64.b64encode(k).decode() for v, k in sorted(keys.items())},
        }
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.unlink(missing_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(body, out, indent=2)
        os.replace(tmp, self.path)
        return version


class Keyring:
    """Versioned key-encryption keys; new secrets are wrapped with the active one."""

    def __init__(self, source: KekSource | Mapping[int, bytes], active: int | None = None) -> None:
        if isinstance(source, Mapping):
            source = StaticKeks(source, active if active is not None else max(source, default=0))
        self.source: KekSource = source
        self._keys: dict[int, bytes] = {}
        self.active = 0
        self.reload()

    def reload(self) -> None:
        """Read the source again (new versions, new active key)."""
        keys, active = self.source.load()
        if active not in keys:
            raise ValueError(f"the active KEK version {active} is not configured")
        for version, key in keys.items():
            if len(key) != 32:
                raise ValueError(f"KEK version {version} must be 32 bytes")
        self._keys, self.active = keys, active

    def kek(self, version: int) -> bytes:
        """The key of ``version``, asking the source again for a version not seen yet."""
        if version not in self._keys:
            self.reload()
        try:
            return self._keys[version]
        except KeyError as err:
            raise DecryptionFailed(f"KEK version {version} is not available") from err

    @classmethod
    def from_base64(cls, keys: Mapping[int, str], active: int) -> Keyring:
        """A keyring over fixed keys (tests, settings)."""
        return cls(StaticKeks.from_base64(keys, active))
