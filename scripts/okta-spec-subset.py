#!/usr/bin/env python3
"""Cut Okta's published Management API spec down to the operations okta-role-sync calls.

Usage: okta-spec-subset.py FULL_SPEC.yaml OUT.json

The output keeps each listed path whole (every method, parameter and response) and every
component those reach through $ref, so prism validates exactly as the full spec would for
these operations, while loading in a fraction of the time.

The OAuth token endpoint is not in the Management spec: its operation comes from
okta-oauth-token.yaml beside this script (modelled on Okta's OAuth API reference; the file says
how) and is added after the cut, with whatever Management components it refers to.
"""
import json
import os
import sys

import yaml

PATHS = [
    "/api/v1/groups",
    "/api/v1/apps",
    "/api/v1/apps/{appId}/groups",
    "/api/v1/apps/{appId}/groups/{groupId}",
    "/api/v1/apps/{appId}",
    "/api/v1/meta/schemas/apps/{appId}/default",
]


def refs(node, found):
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/"):
            found.add(ref)
        for value in node.values():
            refs(value, found)
    elif isinstance(node, list):
        for value in node:
            refs(value, found)


def foreign_refs(node):
    """Whether a node holds a `$ref` outside the spec's components (an example quoting a
    JSON schema document does: `#/definitions/base`), which a validator would try to follow."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and not ref.startswith("#/components/"):
            return True
        return any(foreign_refs(value) for value in node.values())
    if isinstance(node, list):
        return any(foreign_refs(value) for value in node)
    return False


def drop_quoting_examples(spec, node):
    """Removes, from media types under `node`, the examples whose value quotes such refs."""
    if isinstance(node, dict):
        examples = node.get("examples")
        if isinstance(examples, dict):
            for name in list(examples):
                example = examples[name]
                if isinstance(example, dict) and isinstance(example.get("$ref"), str):
                    example = resolve(spec, example["$ref"])
                if foreign_refs(example.get("value") if isinstance(example, dict) else example):
                    del examples[name]
        for value in node.values():
            drop_quoting_examples(spec, value)
    elif isinstance(node, list):
        for value in node:
            drop_quoting_examples(spec, value)


def resolve(spec, ref):
    node = spec
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def oauth_token_operation():
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "okta-oauth-token.yaml")) as f:
        return yaml.safe_load(f)


def main():
    full_path, out_path = sys.argv[1], sys.argv[2]
    with open(full_path) as f:
        spec = yaml.safe_load(f)
    paths = {p: spec["paths"][p] for p in PATHS}
    drop_quoting_examples(spec, paths)
    oauth = oauth_token_operation()
    seen, todo = set(), set()
    refs(paths, todo)
    refs(oauth["paths"], todo)
    todo -= {"#/components/schemas/" + name for name in oauth["components"]["schemas"]}
    todo |= {"#/components/securitySchemes/" + name for name in ("apiToken", "oauth2")}
    while todo:
        ref = todo.pop()
        if ref in seen:
            continue
        seen.add(ref)
        refs(resolve(spec, ref), todo)
    components = {}
    for ref in sorted(seen):
        _, _, kind, name = ref.split("/", 3)
        components.setdefault(kind, {})[name] = resolve(spec, ref)
    for name, schema in oauth["components"]["schemas"].items():
        if name in components.get("schemas", {}):
            sys.exit(f"okta-oauth-token.yaml: schema {name} is also in the Management spec")
        components.setdefault("schemas", {})[name] = schema
    paths.update(oauth["paths"])
    subset = {
        "openapi": spec["openapi"],
        "info": dict(spec["info"], description="Subset of Okta's Management API spec: "
                     + ", ".join(PATHS) + ". Source: okta/okta-management-openapi-spec, "
                     "dist/current/management-oneOfInheritance.yaml (Apache-2.0). Added: "
                     + ", ".join(oauth["paths"]) + " from scripts/okta-oauth-token.yaml, "
                     "modelled on dist/current/oauth-oneOfInheritance.yaml."),
        "servers": spec.get("servers", []),
        "security": spec.get("security", []),
        "paths": paths,
        "components": components,
    }
    with open(out_path, "w") as f:
        json.dump(subset, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
