"""People and workspaces for browser tests, made through the vault's API (synchronously)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field

import httpx

PASSWORD = "a long enough passphrase 42"


@dataclass
class Person:
    """A signed-up user, their workspaces (id by name) and a sandbox account in each."""

    email: str
    password: str
    workspaces: dict[str, str] = field(default_factory=dict)
    accounts: dict[str, str] = field(default_factory=dict)


def token(http: httpx.Client, vault: str, email: str, password: str = PASSWORD) -> str:
    """A fresh access token (its claims list the user's current workspaces)."""
    r = http.post(
        f"{vault}/v1/auth/token",
        data={"grant_type": "password", "username": email, "password": password},
    )
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


def new_person(vault: str, *, workspaces: tuple[str, ...] = ("Brand",)) -> Person:
    """Sign up, create ``workspaces`` and connect a sandbox account to each."""
    person = Person(email=f"web-{uuid.uuid4().hex[:10]}@example.com", password=PASSWORD)
    with httpx.Client(timeout=30.0) as http:
        r = http.post(
            f"{vault}/v1/users",
            json={"email": person.email, "password": PASSWORD, "name": "Web Tester"},
        )
        assert r.status_code == 201, r.text
        for name in workspaces:
            auth = {"authorization": f"Bearer {token(http, vault, person.email)}"}
            r = http.post(f"{vault}/v1/workspaces", json={"name": name}, headers=auth)
            assert r.status_code == 201, r.text
            person.workspaces[name] = str(r.json()["id"])
        auth = {"authorization": f"Bearer {token(http, vault, person.email)}"}
        for name, ws in person.workspaces.items():
            word = re.sub(r"\W", "", name.split()[0]).lower()
            handle = f"{word}_{uuid.uuid4().hex[:6]}"
            r = http.post(
                f"{vault}/v1/workspaces/{ws}/accounts",
                json={"network": "sandbox", "handle": handle},
                headers=auth,
            )
            assert r.status_code == 201, r.text
            person.accounts[name] = str(r.json()["id"])
    return person
