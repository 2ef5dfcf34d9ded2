"""Sign-in with an OpenID Connect provider (authlib): the authorisation code flow with PKCE (S256),
state and nonce kept in the server-side session; the user's group claim is mapped to
organisations and roles by the configured `RoleMapping`."""

from __future__ import annotations

from typing import Any

from authlib.integrations.base_client import OAuthError  # type: ignore[import-untyped]
from authlib.integrations.starlette_client import OAuth  # type: ignore[import-untyped]
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from laif.portal.render import address_of, portal_of, render_async, session_of
from laif.portal.scope import Refused
from laif.portal.settings import OidcSettings


class OidcLogin:
    """The routes `/login/oidc` (off to the provider) and `/auth/oidc/callback` (back from it)."""

    def __init__(self, settings: OidcSettings) -> None:
        self.settings = settings
        self.oauth = OAuth()
        self.oauth.register(
            "provider",
            client_id=settings.client_id,
            client_secret=settings.client_secret,
            server_metadata_url=settings.issuer.rstrip("/") + "/.well-known/openid-configuration",
            client_kwargs={"scope": f"openid email profile {settings.mapping.claim}", "code_challenge_method": "S256",
                           "token_endpoint_auth_method": "client_secret_basic"},
        )
        self.router = APIRouter(include_in_schema=False)
        self.router.add_api_route("/login/oidc", self.start, methods=["GET"])
        self.router.add_api_route("/auth/oidc/callback", self.callback, methods=["GET"], name="oidc_callback")

    @property
    def label(self) -> str:
        return self.settings.label

    async def start(self, request: Request) -> Response:
        client: Any = self.oauth.create_client("provider")
        try:
            response: Response = await client.authorize_redirect(request, str(request.url_for("oidc_callback")))
        except Exception as exc:  # noqa: BLE001 - the provider is unreachable or its metadata is wrong
            return await _failed(request, f"the identity provider could not be reached ({type(exc).__name__})")
        return response

    async def callback(self, request: Request) -> Response:
        client: Any = self.oauth.create_client("provider")
        try:
            token = await client.authorize_access_token(request)
            claims: dict[str, Any] = dict(token.get("userinfo") or {})
            more = await client.userinfo(token=token)
        except OAuthError as exc:
            return await _failed(request, f"the identity provider refused the sign-in ({exc.error})")
        except Exception as exc:  # noqa: BLE001 - a network failure or a malformed answer
            return await _failed(request, f"the sign-in could not be completed ({type(exc).__name__})")
        if more.get("sub") != claims.get("sub"):
            return await _failed(request, "the provider's user information is for another subject")
        claims.update(dict(more))
        issuer = str(claims.get("iss") or self.settings.issuer)
        try:
            account_id = await run_in_threadpool(portal_of(request).oidc_account, issuer, claims, self.settings.mapping,
                                                 address_of(request))
        except Refused as exc:
            return await _failed(request, str(exc), status=403)
        session_of(request).sign_in(account_id)
        return RedirectResponse("/", status_code=303)


async def _failed(request: Request, message: str, status: int = 400) -> Response:
    return await render_async(request, "error.html", {"status": status, "message": message}, status=status)
