"""A small kustomize renderer: only the features deploy/k8s uses, in kustomize's meaning.

Neither kubectl nor kustomize is a Python package, and Debian's kubectl (1.20) carries a
kustomize too old for ``labels`` and ``patches``. So the checks render the overlays
here; where a ``kubectl`` binary exists, tests/ops/test_k8s.py also renders with it and
requires the same objects, which keeps this renderer honest. Anything it does not
implement is refused by name rather than silently ignored.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

Obj = dict[str, Any]

SUPPORTED = {
    "apiVersion",
    "kind",
    "namespace",
    "labels",
    "resources",
    "images",
    "replicas",
    "patches",
}
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition"}


class KustomizeError(ValueError):
    """The kustomization uses something this renderer does not implement, or is wrong."""


def render(directory: Path) -> list[Obj]:
    """The objects ``kubectl kustomize directory`` would print, in no particular order."""
    spec = yaml.safe_load((directory / "kustomization.yaml").read_text(encoding="utf-8"))
    unknown = set(spec) - SUPPORTED
    if unknown:
        raise KustomizeError(f"{directory}: unsupported fields {sorted(unknown)}")
    objects: list[Obj] = []
    for entry in spec.get("resources", []):
        path = directory / entry
        if path.is_dir():
            objects += render(path)
        else:
            objects += [o for o in yaml.safe_load_all(path.read_text(encoding="utf-8")) if o]
    for patch in spec.get("patches", []):
        _apply_patch(directory, objects, patch)
    for item in spec.get("labels", []):
        if item.get("includeSelectors") or item.get("includeTemplates"):
            raise KustomizeError("labels with includeSelectors/includeTemplates")
        for obj in objects:
            obj.setdefault("metadata", {}).setdefault("labels", {}).update(item["pairs"])
    for image in spec.get("images", []):
        _set_image(objects, image)
    for replicas in spec.get("replicas", []):
        target = _find(objects, None, replicas["name"], kinds=("Deployment", "StatefulSet"))
        target["spec"]["replicas"] = replicas["count"]
    if "namespace" in spec:
        for obj in objects:
            if obj["kind"] not in CLUSTER_SCOPED:
                obj["metadata"]["namespace"] = spec["namespace"]
    return objects


def _find(objects: list[Obj], kind: str | None, name: str, kinds: tuple[str, ...] = ()) -> Obj:
    found = [
        o
        for o in objects
        if o["metadata"]["name"] == name
        and (kind is None or o["kind"] == kind)
        and (not kinds or o["kind"] in kinds)
    ]
    if len(found) != 1:
        raise KustomizeError(f"expected one {kind or kinds} named {name}, found {len(found)}")
    return found[0]


def _apply_patch(directory: Path, objects: list[Obj], patch: Obj) -> None:
    if "path" in patch:
        if "target" in patch:
            raise KustomizeError("a patch file with a target")
        docs = [d for d in yaml.safe_load_all((directory / patch["path"]).read_text()) if d]
        for doc in docs:
            target = _find(objects, doc["kind"], doc["metadata"]["name"])
            _merge(target, doc, builtin=_is_builtin(doc["apiVersion"]))
        return
    target = patch.get("target", {})
    ops = yaml.safe_load(patch["patch"])
    if not isinstance(ops, list):
        raise KustomizeError("inline patches must be JSON 6902 operation lists")
    matched = [
        o
        for o in objects
        if o["kind"] == target.get("kind", o["kind"])
        and o["metadata"]["name"] == target.get("name", o["metadata"]["name"])
    ]
    if not matched:
        raise KustomizeError(f"patch target {target} matches nothing")
    for obj in matched:
        for op in ops:
            _json6902(obj, op)


def _is_builtin(api_version: str) -> bool:
    # Custom resources have no merge keys: kustomize replaces their lists whole.
    group = api_version.rpartition("/")[0]
    return "." not in group or group.endswith(".k8s.io")


def _merge(target: Obj, patch: Obj, *, builtin: bool) -> None:
    """Strategic merge: maps merge, named lists of built-in kinds merge by name."""
    for key, value in patch.items():
        current = target.get(key)
        if isinstance(value, dict) and isinstance(current, dict):
            _merge(current, value, builtin=builtin)
        elif builtin and _named_list(value) and _named_list(current):
            by_name = {item["name"]: item for item in current}
            for item in value:
                if item["name"] in by_name:
                    _merge(by_name[item["name"]], item, builtin=builtin)
                else:
                    current.append(copy.deepcopy(item))
        else:
            target[key] = copy.deepcopy(value)


def _named_list(value: object) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(i, dict) and "name" in i for i in value)
    )


def _json6902(obj: Obj, op: Obj) -> None:
    if op["op"] not in ("replace", "add"):
        raise KustomizeError(f"JSON patch op {op['op']} not supported")
    parts = [p.replace("~1", "/").replace("~0", "~") for p in op["path"].split("/")[1:]]
    node: Any = obj
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    last = parts[-1]
    if isinstance(node, list):
        index = len(node) if last == "-" else int(last)
        if op["op"] == "add":
            node.insert(index, op["value"])
        else:
            node[index] = op["value"]
    else:
        if op["op"] == "replace" and last not in node:
            raise KustomizeError(f"replace of missing {op['path']}")
        node[last] = op["value"]


def _set_image(objects: list[Obj], image: Obj) -> None:
    for obj in objects:
        template = obj.get("spec", {}).get("template", {}).get("spec", {})
        for container in template.get("containers", []):
            name, _, tag = container["image"].partition(":")
            if name == image["name"]:
                container["image"] = (
                    f"{image.get('newName', name)}:{image.get('newTag', tag)}"
                    if image.get("newTag", tag)
                    else image.get("newName", name)
                )
