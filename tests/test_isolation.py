"""Merchant A's token reaches none of merchant B's (or shopper B's) resources, on every route."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests import isolation
from tests.isolation import BODY_EXAMPLES, BUILDERS, GLOBAL_PARAMS, PUBLIC_READ, SKIP, World

PARAM = re.compile(r"{([^}]+)}")
OPS_PATHS = {"/healthz", "/readyz", "/metrics", "/"}


def example(schema: dict[str, Any], components: dict[str, Any], world: World, name: str = "") -> Any:
    """A small valid instance of a JSON schema; names of B's resources get B's ids."""
    if "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[1]]
    if name in world.ids:
        return world.ids[name]
    if "examples" in schema and schema["examples"]:
        return schema["examples"][0]
    if "default" in schema and schema["default"] is not None:
        return schema["default"]
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [s for s in schema[key] if s.get("type") != "null"]
            return example(options[0], components, world, name) if options else None
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        return {
            k: example(v, components, world, k) for k, v in props.items() if k in schema.get("required", [])
        }
    if kind == "array":
        n = schema.get("minItems", 0)
        return [example(schema.get("items", {}), components, world) for _ in range(n)]
    if kind == "integer":
        return max(schema.get("minimum", 1), 1)
    if kind == "number":
        return float(max(schema.get("minimum", 1), 1))
    if kind == "boolean":
        return False
    fmt = schema.get("format")
    if fmt == "date":
        return "1990-01-01"
    if fmt == "date-time":
        return "2026-01-01T00:00:00Z"
    if fmt == "email" or "email" in name:
        return "someone@example.com"
    return "x" * max(schema.get("minLength", 1), 1)


@pytest.fixture
def world(factory) -> World:
    b_merchant = factory.merchant(name="Shop B")
    b_shopper = factory.user("shopper", "creator")
    w = World(factory, b_merchant, b_shopper)
    for build in BUILDERS:
        build(w)
    return w


def test_merchant_a_reaches_nothing_of_merchant_b(api, factory, world):
    a_owner = factory.user("shopper", "creator")
    a = factory.merchant(name="Shop A", owner=a_owner)
    doc = api.get("/api/v1/openapi.json").json()
    components = doc.get("components", {}).get("schemas", {})
    checked, leaks, failures = 0, [], []

    for path, ops in doc["paths"].items():
        if path in OPS_PATHS:
            continue
        for method, op in ops.items():
            key = f"{method.upper()} {path}"
            if key in SKIP:
                continue
            params = PARAM.findall(path)
            url = path
            for p in params:
                if p in GLOBAL_PARAMS:
                    value = GLOBAL_PARAMS[p]
                else:
                    assert p in world.ids, (
                        f"{key}: no isolation fixture for path parameter '{p}'; register a builder in tests/isolation.py"
                    )
                    value = world.ids[p]
                url = url.replace("{" + p + "}", value)
            query = {}
            for qp in op.get("parameters", []):
                if qp.get("in") == "query" and qp.get("required"):
                    query[qp["name"]] = example(qp.get("schema", {}), components, world, qp["name"])
            body = None
            if "requestBody" in op:
                content = op["requestBody"].get("content", {})
                if key in BODY_EXAMPLES:
                    body = BODY_EXAMPLES[key]
                elif "application/json" in content:
                    body = example(content["application/json"].get("schema", {}), components, world)
            kwargs: dict[str, Any] = {"headers": a.headers, "params": query}
            if body is not None:
                kwargs["json"] = body
            resp = api.request(method.upper(), url, **kwargs)
            checked += 1
            assert resp.status_code < 500, f"{key} answered {resp.status_code}: {resp.text[:300]}"
            sent = url + str(body) + str(query)
            for private in world.private_ids:
                # echoing an id the caller sent (e.g. in "No merchant X") reveals nothing
                if private and private in resp.text and private not in sent:
                    leaks.append(f"{key} leaked {private}")
            tenant_params = [p for p in params if p not in GLOBAL_PARAMS]
            if tenant_params:
                if key in PUBLIC_READ and method.upper() == "GET":
                    continue
                if resp.status_code not in (403, 404):
                    failures.append(f"{key} -> {resp.status_code}: {resp.text[:200]}")
            elif (
                body is not None
                and any(v in str(body) for v in world.private_ids if v)
                and resp.status_code < 400
            ):
                failures.append(f"{key} accepted B's ids in its body -> {resp.status_code}")
    assert not leaks, leaks
    assert not failures, failures
    assert checked >= 10


def test_every_builder_registered_something(world):
    assert world.ids["merchant_id"] == world.b_merchant.merchant_id
    assert isolation.BUILDERS
