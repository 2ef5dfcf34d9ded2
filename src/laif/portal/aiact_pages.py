"""The aiact pages of the portal (and their JSON API under /api/v1). Domain logic lives in
`laif.services`; these routes only read forms, call the services through the scoped query
layer, and render."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
api = APIRouter(prefix="/api/v1")
