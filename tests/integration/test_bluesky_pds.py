"""The Bluesky connector against a real PDS (the reference implementation, from npm).

The module fixture installs tests/peers/bluesky with ``npm ci`` when its node_modules
is missing (only the npm registry is needed: better-sqlite3 builds from source against
the local Node headers), starts a PLC directory and a PDS on free loopback ports, and
creates two accounts and an app password. The servers stop at the end of the module.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import socket
import struct
import subprocess
import time
import zlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from siar.connectors import (
    AccountRef,
    AuthExpiredError,
    Credential,
    Engagement,
    MediaItem,
    MediaKind,
    OutgoingPost,
    PermanentError,
)
from siar.connectors.bluesky import BlueskyConnector
from siar.connectors.bluesky_lexicon import POST, AtUri, now_iso

PEER_DIR = Path(__file__).resolve().parents[1] / "peers" / "bluesky"
NPM_CI_TIMEOUT_S = 540
START_TIMEOUT_S = 60

pytestmark = pytest.mark.timeout(NPM_CI_TIMEOUT_S + 120)


@dataclass(frozen=True)
class Peer:
    """The running PDS and the accounts made on it."""

    url: str
    handle: str
    app_password: str
    bob_handle: str
    bob_did: str


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _npm_env() -> dict[str, str]:
    env = dict(os.environ)
    node = shutil.which("node")
    if node and not env.get("npm_config_nodedir"):
        # node-gyp otherwise downloads headers from nodejs.org, which CI cannot reach.
        prefix = Path(node).resolve().parents[1]
        if (prefix / "include" / "node" / "node.h").exists():
            env["npm_config_nodedir"] = str(prefix)
    return env


def _install() -> None:
    if (PEER_DIR / "node_modules" / "@atproto" / "pds").is_dir():
        return
    started = time.monotonic()
    result = subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund"],
        cwd=PEER_DIR,
        env=_npm_env(),
        capture_output=True,
        text=True,
        timeout=NPM_CI_TIMEOUT_S,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"npm ci failed in {PEER_DIR}:\n{result.stdout}\n{result.stderr}")
    print(f"npm ci took {time.monotonic() - started:.0f} s")


def _wait_ready(proc: subprocess.Popen[str]) -> dict[str, Any]:
    assert proc.stdout is not None
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the PDS exited with {proc.returncode} before it was ready")
        readable, _, _ = select.select([proc.stdout], [], [], 0.5)
        if readable:
            line = proc.stdout.readline()
            if line.startswith("{") and '"ready"' in line:
                ready: dict[str, Any] = json.loads(line)
                return ready
    pytest.fail("the PDS did not report ready in time")


def _xrpc(url: str, nsid: str, body: dict[str, Any], token: str | None = None) -> Any:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    response = httpx.post(f"{url}/xrpc/{nsid}", json=body, headers=headers, timeout=30)
    response.raise_for_status()
    return response.json()


def _create_accounts(url: str) -> Peer:
    alice = _xrpc(
        url,
        "com.atproto.server.createAccount",
        {"handle": "alice.test", "email": "alice@example.test", "password": "alice-pass-1"},
    )
    bob = _xrpc(
        url,
        "com.atproto.server.createAccount",
        {"handle": "bob.test", "email": "bob@example.test", "password": "bob-pass-1"},
    )
    app = _xrpc(
        url, "com.atproto.server.createAppPassword", {"name": "siar"}, token=alice["accessJwt"]
    )
    return Peer(url, "alice.test", app["password"], "bob.test", bob["did"])


@pytest.fixture(scope="module")
def peer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Peer]:
    """A PLC directory and a PDS on loopback, with accounts; stopped afterwards."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("Node.js 20 and npm are needed to run the reference PDS")
    _install()
    data_dir = tmp_path_factory.mktemp("pds")
    args = ["--plc-port", str(_free_port()), "--pds-port", str(_free_port())]
    with (data_dir / "pds.log").open("w") as log:
        proc = subprocess.Popen(
            ["node", "start-pds.mjs", *args, "--data-dir", str(data_dir / "data")],
            cwd=PEER_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
    try:
        url = _wait_ready(proc)["pds"]
        httpx.get(f"{url}/xrpc/_health", timeout=10).raise_for_status()
        yield _create_accounts(url)
    finally:
        # Closing stdin alone stops it; SIGTERM (then SIGKILL) makes sure.
        assert proc.stdin is not None
        proc.stdin.close()
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        assert proc.stdout is not None
        proc.stdout.close()


@pytest.fixture
async def connector(peer: Peer) -> AsyncIterator[BlueskyConnector]:
    """A connector pointed at the local PDS."""
    async with httpx.AsyncClient() as http:
        yield BlueskyConnector(http, service=peer.url)


@pytest.fixture
async def signed_in(connector: BlueskyConnector, peer: Peer) -> tuple[AccountRef, Credential]:
    """The test account, signed in with its app password."""
    connected = await connector.sign_in(peer.handle, peer.app_password)
    account = AccountRef(
        workspace_id="w1",
        account_id="a1",
        network="bluesky",
        handle=connected.handle,
        network_account_id=connected.network_account_id,
    )
    return account, connected.credential


def _png(width: int = 4, height: int = 3) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


async def _record(connector: BlueskyConnector, credential: Credential, uri: str) -> dict[str, Any]:
    return await connector.get_record(credential, uri)


async def test_sign_in_gives_a_session_on_the_accounts_pds(
    connector: BlueskyConnector, peer: Peer
) -> None:
    connected = await connector.sign_in(peer.handle, peer.app_password)
    assert connected.handle == peer.handle
    assert connected.network_account_id.startswith("did:plc:")
    credential = connected.credential
    assert credential.extra["did"] == connected.network_account_id
    assert credential.extra["pds"].endswith(peer.url.rsplit(":", 1)[1])
    assert credential.expires_at is not None
    assert credential.expires_at > datetime.now(UTC)
    refreshed = await connector.refresh(credential)
    assert refreshed.refresh_token is not None
    assert credential.refresh_token is not None
    old, new = credential.refresh_token, refreshed.refresh_token
    assert new.get_secret_value() != old.get_secret_value()
    session = await connector.xcall("GET", "com.atproto.server.getSession", refreshed)
    assert session["did"] == connected.network_account_id


async def test_wrong_app_password_is_permanent(connector: BlueskyConnector, peer: Peer) -> None:
    with pytest.raises(PermanentError, match="app password"):
        await connector.sign_in(peer.handle, "xxxx-xxxx-xxxx-xxxx")


async def test_publish_with_facets_and_image(
    connector: BlueskyConnector, signed_in: tuple[AccountRef, Credential], peer: Peer
) -> None:
    account, credential = signed_in
    link = "https://example.com/a?b=1"
    text = f"🎉 Café news: {link} with @{peer.bob_handle} #siar!"
    image = _png()
    post = OutgoingPost(
        text=text,
        marker="delivery-facets",
        media=[
            MediaItem(
                kind=MediaKind.IMAGE,
                mime_type="image/png",
                filename="dot.png",
                size_bytes=len(image),
                width=4,
                height=3,
                alt_text="a red dot",
                content=image,
            )
        ],
    )
    published = await connector.publish(account, credential, post)

    record = (await _record(connector, credential, published.network_post_id))["value"]
    encoded = text.encode()
    expected = [
        (encoded.index(link.encode()), len(link.encode()), {"uri": link}),
        (encoded.index(b"@bob.test"), len(b"@bob.test"), {"did": peer.bob_did}),
        (encoded.index(b"#siar"), len(b"#siar"), {"tag": "siar"}),
    ]
    assert encoded.index(link.encode()) != text.index(link)  # the emoji and é shift bytes
    got = [
        (f["index"]["byteStart"], f["index"]["byteEnd"] - f["index"]["byteStart"], f["features"][0])
        for f in record["facets"]
    ]
    for (start, length, feature), (g_start, g_length, g_feature) in zip(expected, got, strict=True):
        assert (g_start, g_length) == (start, length)
        assert feature.items() <= g_feature.items()
    images = record["embed"]["images"]
    assert images[0]["alt"] == "a red dot"
    assert images[0]["aspectRatio"] == {"width": 4, "height": 3}
    assert images[0]["image"]["mimeType"] == "image/png"
    assert record["siarMarker"] == "delivery-facets"
    assert published.permalink is not None
    assert published.permalink.endswith(AtUri.parse(published.network_post_id).rkey)


async def test_find_by_marker_then_delete(
    connector: BlueskyConnector, signed_in: tuple[AccountRef, Credential]
) -> None:
    account, credential = signed_in
    since = datetime.now(UTC) - timedelta(seconds=5)
    post = OutgoingPost(text="Found again after a lost answer", marker="delivery-find")
    published = await connector.publish(account, credential, post)

    found = await connector.find_by_marker(account, credential, post, since)
    assert found is not None
    assert found.network_post_id == published.network_post_id
    other = OutgoingPost(text="Never published", marker="delivery-other")
    assert await connector.find_by_marker(account, credential, other, since) is None
    later = datetime.now(UTC) + timedelta(minutes=1)
    assert await connector.find_by_marker(account, credential, post, later) is None

    delete = Engagement(action="delete", target_network_id=published.network_post_id)
    await connector.engage(account, credential, delete)
    assert await connector.find_by_marker(account, credential, post, since) is None
    with pytest.raises(PermanentError, match=r"RecordNotFound|Could not locate"):
        await _record(connector, credential, published.network_post_id)


async def test_thread_first_comment_and_like(
    connector: BlueskyConnector, signed_in: tuple[AccountRef, Credential]
) -> None:
    account, credential = signed_in
    post = OutgoingPost(
        text="A thread, 1/2",
        marker="delivery-thread",
        thread=["2/2 the end"],
        first_comment="First!",
    )
    published = await connector.publish(account, credential, post)
    root = await _record(connector, credential, published.network_post_id)

    body = await connector.xcall(
        "GET",
        "com.atproto.repo.listRecords",
        credential,
        params={"repo": account.network_account_id, "collection": POST, "limit": 10},
    )
    replies = {
        r["value"]["text"]: r["value"]["reply"] for r in body["records"] if "reply" in r["value"]
    }
    assert replies["2/2 the end"]["root"] == {"uri": root["uri"], "cid": root["cid"]}
    assert replies["First!"]["parent"] == {"uri": root["uri"], "cid": root["cid"]}

    like = Engagement(action="like", target_network_id=published.network_post_id)
    liked = await connector.engage(account, credential, like)
    assert liked.network_id is not None
    like_record = await _record(connector, credential, liked.network_id)
    assert like_record["value"]["subject"]["uri"] == published.network_post_id


async def test_bad_token_means_auth_expired(
    connector: BlueskyConnector, signed_in: tuple[AccountRef, Credential]
) -> None:
    account, credential = signed_in
    bad = credential.model_copy(update={"access_token": SecretStr("not-a-session")})
    with pytest.raises(AuthExpiredError, match="InvalidToken"):
        await connector.publish(account, bad, OutgoingPost(text="nope", marker="delivery-bad"))


async def test_3001_graphemes_are_refused(
    connector: BlueskyConnector, signed_in: tuple[AccountRef, Credential]
) -> None:
    account, credential = signed_in
    text = "a" * 3001
    with pytest.raises(PermanentError, match="limited to 300"):
        await connector.publish(account, credential, OutgoingPost(text=text, marker="d-long"))
    # The PDS's own refusal (without the connector's check) is permanent too.
    record = {"$type": POST, "text": text, "createdAt": now_iso()}
    assert account.network_account_id is not None
    with pytest.raises(PermanentError, match="InvalidRequest") as raised:
        await connector.create_record(credential, account.network_account_id, POST, record)
    assert "text" in raised.value.reason
