"""POST /console/qr: an otpauth:// URI as an SVG QR code, and what it refuses."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator

import httpx
import pytest
import segno

from siar_console.main import create_app
from siar_console.qr import BORDER, MAX_BODY, SCALE

SVG_NS = "{http://www.w3.org/2000/svg}"
URI = (
    "otpauth://totp/Siar:dewi%40kopisenja.id?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    "&issuer=Siar&algorithm=SHA1&digits=6&period=30"
)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    # No lifespan: the QR route needs neither the proxy's client nor the services.
    transport = httpx.ASGITransport(app=create_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://console") as http:
        yield http


def _svg(content: bytes) -> ET.Element:
    return ET.fromstring(content)  # noqa: S314 - the route's own output, in a test


def _modules(svg: ET.Element) -> int:
    width, height = int(svg.attrib["width"].removesuffix("px")), int(svg.attrib["height"][:-2])
    assert width == height
    assert svg.attrib["viewBox"] == f"0 0 {width} {height}"  # scalable without cropping
    assert width % SCALE == 0
    return width // SCALE - 2 * BORDER


async def test_an_otpauth_uri_becomes_an_uncached_svg_of_the_right_size(
    client: httpx.AsyncClient,
) -> None:
    r = await client.post("/console/qr", json={"data": URI})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/svg+xml"
    assert r.headers["cache-control"] == "no-store"
    assert "script-src 'self'" in r.headers["content-security-policy"]
    svg = _svg(r.content)
    assert svg.tag == f"{SVG_NS}svg"
    # A QR symbol of version v is 17 + 4v modules a side. This URI is 125 bytes; at error
    # level M version 7 holds 122 bytes in byte mode, version 8 holds 152: it must be 8.
    modules = _modules(svg)
    assert (modules - 17) % 4 == 0
    version = (modules - 17) // 4
    assert len(URI) == 125
    assert version == segno.make(URI, error="m", micro=False).version == 8
    drawn = svg.findall(f".//{SVG_NS}path")
    assert any(p.get("stroke") == "#000" and len(p.get("d", "")) > 500 for p in drawn)


async def test_a_longer_uri_gets_a_bigger_symbol(client: httpx.AsyncClient) -> None:
    short = _modules(_svg((await client.post("/console/qr", json={"data": URI})).content))
    longer = URI + "&image=" + "x" * 300
    r = await client.post("/console/qr", json={"data": longer})
    assert r.status_code == 200
    assert _modules(_svg(r.content)) > short


@pytest.mark.parametrize(
    ("body", "status", "kind"),
    [
        ({"data": "https://example.com/?secret=abc"}, 422, "not-otpauth"),
        ({"data": "javascript:alert(1)"}, 422, "not-otpauth"),
        ({"data": ""}, 422, "validation"),
        ({"data": 42}, 422, "validation"),
        ({"uri": URI}, 422, "validation"),
        (["otpauth://totp/x"], 422, "validation"),
        ({"data": "otpauth://totp/x?secret=" + "A" * MAX_BODY}, 413, "payload-too-large"),
    ],
)
async def test_refusals_are_problems(
    client: httpx.AsyncClient, body: object, status: int, kind: str
) -> None:
    r = await client.post("/console/qr", json=body)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["type"] == f"urn:siar:problem:{kind}"


async def test_malformed_json_and_other_media_types_are_refused(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/console/qr", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert (r.status_code, r.json()["type"]) == (400, "urn:siar:problem:malformed-json")
    r = await client.post(
        "/console/qr", data={"data": URI}
    )  # a form post, as a cross-site form would
    assert (r.status_code, r.json()["type"]) == (415, "urn:siar:problem:unsupported-media-type")


async def test_a_chunked_body_over_the_limit_is_refused_without_a_length(
    client: httpx.AsyncClient,
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"data": "otpauth://totp/x?secret='
        for _ in range(4):
            yield b"A" * 400
        yield b'"}'

    r = await client.post(
        "/console/qr", content=chunks(), headers={"content-type": "application/json"}
    )
    assert r.status_code == 413


async def test_the_secret_is_never_taken_from_the_address(client: httpx.AsyncClient) -> None:
    r = await client.get("/console/qr", params={"data": URI})
    assert r.status_code == 405
    assert r.headers["content-type"] == "application/problem+json"
