"""Both languages say everything, and no page uses a string the dictionaries lack.

The dictionaries are JavaScript object literals (``"key": "text",`` one per line) in
``strings.js`` and in each page module's ``export const strings = {en: {...}, id: {...}}``;
keys used are the literal first arguments of ``t("...")`` calls.
"""

from __future__ import annotations

import re
from pathlib import Path

STATIC = Path(__file__).resolve().parents[1] / "src" / "siar_console" / "static"
MODULES = sorted(p for p in STATIC.rglob("*.js"))
ENTRY = re.compile(r'"([\w.\-]+)":\s*"')
USED = re.compile(r'\bt\(\s*"([\w.\-]+)"')
# t(`role.${w.role}`)-style keys are checked by their family: the prefix must have keys.
DYNAMIC = re.compile(r"\bt\(\s*`([\w.\-]+)\$\{")
# h("p", {...}, "Some words") — text given to an element directly instead of through t().
CHILD = re.compile(
    r'^(?!\s*(?://|/\*|\*)).*\bh\("[a-z0-9]+", \{[^{}]*\}, "([A-Za-z][^"]*)"', re.MULTILINE
)
PROPER_NOUNS = {"Siar"}
LITERAL = re.compile(r'\b(?:label|title|placeholder|aria-label|alt)\s*:\s*"([A-Za-z][^"]*)"')


def dictionaries(text: str) -> dict[str, list[str]]:
    """The keys of the ``en`` and ``id`` blocks of one module."""
    found: dict[str, list[str]] = {}
    for lang in ("en", "id"):
        block = re.search(rf"^\s*{lang}: \{{(.*?)^\s*\}},?$", text, re.MULTILINE | re.DOTALL)
        if block:
            found[lang] = ENTRY.findall(block.group(1))
    return found


def all_keys() -> set[str]:
    keys: set[str] = set()
    for module in MODULES:
        for entries in dictionaries(module.read_text(encoding="utf-8")).values():
            keys.update(entries)
    return keys


def test_every_module_has_the_same_keys_in_both_languages() -> None:
    checked = 0
    for module in MODULES:
        found = dictionaries(module.read_text(encoding="utf-8"))
        if not found:
            continue
        checked += 1
        en, id_ = found.get("en", []), found.get("id", [])
        assert len(en) == len(set(en)), f"{module.name}: a key repeats in en"
        assert len(id_) == len(set(id_)), f"{module.name}: a key repeats in id"
        assert set(en) == set(id_), (
            f"{module.name}: only in en {sorted(set(en) - set(id_))}, "
            f"only in id {sorted(set(id_) - set(en))}"
        )
    assert checked >= 3  # strings.js and the pages were really read


def test_every_key_used_exists() -> None:
    keys = all_keys()
    missing = {
        f"{module.relative_to(STATIC)}: {key}"
        for module in MODULES
        for key in USED.findall(module.read_text(encoding="utf-8"))
        if key not in keys
    }
    assert not missing, sorted(missing)
    families = {
        prefix
        for module in MODULES
        for prefix in DYNAMIC.findall(module.read_text(encoding="utf-8"))
    }
    assert all(any(k.startswith(p) for k in keys) for p in families), families


def test_no_visible_text_is_hard_coded() -> None:
    keys = all_keys()
    offenders = {
        f"{module.relative_to(STATIC)}: {text}"
        for module in MODULES
        for text in LITERAL.findall(module.read_text(encoding="utf-8"))
        + CHILD.findall(module.read_text(encoding="utf-8"))
        # Words for people start with a capital or have a space; keys and slugs have neither.
        if (" " in text or text[0].isupper()) and text not in keys | PROPER_NOUNS
    }
    assert not offenders, sorted(offenders)
