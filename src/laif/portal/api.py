"""The JSON API under `/api/v1`, for scripts and CI pipelines: a personal access token as
`Authorization: Bearer laif_pat_...`, never the session cookie. Same query layer as the pages."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field

from laif.portal.catalogue import service_catalogue
from laif.portal.render import address_of, portal_of
from laif.portal.scope import Caller, Scoped
from laif.portal.tables import RequestStatus, ServiceRequest

api_router = APIRouter(prefix="/api/v1", tags=["portal"])


def api_caller(request: Request) -> Caller:
    """The caller a bearer token stands for; 401 without a valid one."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    caller = None
    if scheme.lower() == "bearer" and token.strip():
        caller = portal_of(request).token_caller(token.strip(), address_of(request))
    if caller is None:
        raise HTTPException(401, "a valid personal access token is needed (Authorization: Bearer laif_pat_...)",
                            headers={"WWW-Authenticate": "Bearer"})
    return caller


ApiCaller = Annotated[Caller, Depends(api_caller)]


class Me(BaseModel):
    email: str
    name: str
    organisation: str
    role: str


class ServiceOut(BaseModel):
    id: str
    stage: str
    title: str
    partner: str
    summary: str


class RequestIn(BaseModel):
    service_id: str = Field(description="A service id from GET /api/v1/services")
    message: str = Field("", max_length=5000)


class MessageIn(BaseModel):
    body: str = Field(min_length=1, max_length=5000)


class StatusIn(BaseModel):
    status: RequestStatus


class MessageOut(BaseModel):
    author: str
    body: str
    at: datetime


class RequestOut(BaseModel):
    id: int
    service_id: str
    organisation_id: int
    status: RequestStatus
    created_at: datetime
    updated_at: datetime
    messages: list[MessageOut] | None = None


def _out(row: ServiceRequest, messages: list[MessageOut] | None = None) -> RequestOut:
    return RequestOut(id=row.id, service_id=row.service_id, organisation_id=row.organisation_id,
                      status=RequestStatus(row.status), created_at=row.created_at, updated_at=row.updated_at,
                      messages=messages)


@api_router.get("/me")
def me(caller: ApiCaller) -> Me:
    """Who the token stands for."""
    return Me(email=caller.email, name=caller.name, organisation=caller.organisation_name, role=caller.role.value)


@api_router.get("/services")
def services(caller: ApiCaller) -> list[ServiceOut]:
    """The service catalogue."""
    return [ServiceOut(**s.model_dump(exclude={"laif"})) for s in service_catalogue().services]


@api_router.get("/requests")
def list_requests(request: Request, caller: ApiCaller) -> list[RequestOut]:
    """The organisation's requests (for factory staff: every request in the queue)."""
    with portal_of(request).session() as s:
        return [_out(row) for row, _ in Scoped(s, caller).requests()]


def _detail(request: Request, caller: Caller, request_id: int) -> RequestOut:
    with portal_of(request).session() as s:
        scoped = Scoped(s, caller)
        row = scoped.request(request_id)
        messages = [MessageOut(author=name, body=m.body, at=m.at) for m, name in scoped.messages(row)]
        return _out(row, messages)


@api_router.post("/requests", status_code=201)
def create_request(request: Request, caller: ApiCaller, body: RequestIn) -> RequestOut:
    """Request a service of the catalogue; it goes to the advisors' queue."""
    with portal_of(request).session() as s:
        request_id = Scoped(s, caller).open_request(body.service_id, body.message).id
    return _detail(request, caller, request_id)


@api_router.get("/requests/{request_id}")
def get_request(request: Request, caller: ApiCaller, request_id: int) -> RequestOut:
    """One request with its messages."""
    return _detail(request, caller, request_id)


@api_router.post("/requests/{request_id}/messages", status_code=201)
def add_message(request: Request, caller: ApiCaller, request_id: int, body: MessageIn) -> RequestOut:
    with portal_of(request).session() as s:
        Scoped(s, caller).post_message(request_id, body.body)
    return _detail(request, caller, request_id)


@api_router.post("/requests/{request_id}/status")
def move_request(request: Request, caller: ApiCaller, request_id: int, body: StatusIn) -> RequestOut:
    """Move a request along the queue (factory advisors and admins)."""
    with portal_of(request).session() as s:
        Scoped(s, caller).move(request_id, body.status)
    return _detail(request, caller, request_id)
