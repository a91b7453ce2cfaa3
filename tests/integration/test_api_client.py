"""A client that knows only the published OpenAPI document: it finds the search operation, builds the
upload from the request schema, and checks what comes back against the response schema. It imports
nothing from Lookalike; Django's test client is only its HTTP transport."""

from __future__ import annotations

import jsonschema
import pytest

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def _resolve(node, document):
    """Inline every local $ref, so a plain JSON Schema validator can use the OpenAPI schemas."""
    if isinstance(node, dict):
        if "$ref" in node:
            target = document
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            return _resolve(target, document)
        return {key: _resolve(value, document) for key, value in node.items()}
    if isinstance(node, list):
        return [_resolve(item, document) for item in node]
    return node


class SchemaClient:
    def __init__(self, transport, schema_url: str):
        self.transport = transport
        self.document = transport.get(schema_url, HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    def operation(self, operation_id: str) -> tuple[str, str, dict]:
        for path, methods in self.document["paths"].items():
            for method, operation in methods.items():
                if operation.get("operationId") == operation_id:
                    return method, path, operation
        raise LookupError(operation_id)

    def call_multipart(self, operation_id: str, fields: dict) -> dict:
        method, path, operation = self.operation(operation_id)
        request_schema = _resolve(
            operation["requestBody"]["content"]["multipart/form-data"]["schema"], self.document
        )
        unknown = set(fields) - set(request_schema["properties"])
        assert not unknown, f"the schema has no fields {unknown}"
        response = getattr(self.transport, method)(path, fields)
        body = response.json()
        response_schema = _resolve(
            operation["responses"][str(response.status_code)]["content"]["application/json"]["schema"],
            self.document,
        )
        jsonschema.validate(body, response_schema)
        return {"status": response.status_code, "body": body}


def test_a_schema_only_client_searches_by_photo(client, demo_catalog, grocery_dir):
    api = SchemaClient(client, "/api/schema/")
    photo = grocery_dir / "iconic-images-and-descriptions/Fruit/Banana/Banana_Iconic.jpg"
    with photo.open("rb") as handle:
        result = api.call_multipart("v1_search_create", {"image": handle, "k": 3})
    assert result["status"] == 200
    best = result["body"]["results"][0]
    assert best["product"]["name"] == "Banana" and best["score"] > 0.99

    with photo.open("rb") as handle:
        refused = api.call_multipart("v1_search_create", {"image": handle, "k": 0})
    assert refused["status"] == 400 and "k" in refused["body"]["error"]["details"]
