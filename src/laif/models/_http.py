"""HTTP plumbing shared by the endpoint adapters: one place that turns a
response into text or into the error the runner knows how to handle."""

from __future__ import annotations

import email.utils
import os
import time
from typing import Any

import httpx

from laif.errors import BadInput, ModelUnreachable
from laif.models.base import BadResponse, TransientModelError

RETRYABLE_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}


class ModelRejected(ModelUnreachable):
    """The endpoint answered with a status no retry will change (401, 404...)."""


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After is either seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def api_key_from_env(var: str | None) -> str | None:
    """Read a key from the variable the user named. The value is never echoed."""
    if not var:
        return None
    value = os.environ.get(var)
    if not value:
        raise BadInput(f"--api-key-env {var}: the environment variable {var} is not set or empty")
    return value


async def post_json(
    client: httpx.AsyncClient, url: str, payload: Any, headers: dict[str, str] | None = None
) -> Any:
    """POST JSON, return the decoded body or raise an error the runner classifies."""
    try:
        resp = await client.post(url, json=payload, headers=headers)
    except httpx.TimeoutException as exc:
        raise TransientModelError(f"timed out: {type(exc).__name__}") from exc
    except httpx.TransportError as exc:
        raise TransientModelError(f"connection failed: {type(exc).__name__}: {exc}") from exc
    if resp.status_code in RETRYABLE_STATUS:
        raise TransientModelError(
            f"HTTP {resp.status_code}",
            retry_after=parse_retry_after(resp.headers.get("retry-after")),
            status=resp.status_code,
        )
    if resp.status_code >= 400:
        hint = " (check the API key variable)" if resp.status_code in (401, 403) else ""
        raise ModelRejected(f"{url} answered HTTP {resp.status_code}{hint}: {resp.text[:200]}")
    try:
        return resp.json()
    except ValueError as exc:
        raise BadResponse(f"not JSON: {resp.text[:80]!r}", status=resp.status_code) from exc


def dig(doc: Any, path: str) -> Any:
    """Follow a dotted path such as `choices.0.message.content` into decoded JSON."""
    node = doc
    for part in path.split(".") if path else []:
        if isinstance(node, list):
            try:
                node = node[int(part)]
            except (ValueError, IndexError) as exc:
                raise BadResponse(f"response has no element {part!r} on path {path!r}") from exc
        elif isinstance(node, dict):
            if part not in node:
                raise BadResponse(f"response has no field {part!r} on path {path!r}")
            node = node[part]
        else:
            raise BadResponse(f"response path {path!r} stops at a {type(node).__name__}")
    return node
