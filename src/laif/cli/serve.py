"""`laif serve`: the web portal (the one-stop shop) on laif's database."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import typer

from laif.cli._common import err
from laif.errors import BadInput


def _check_port(host: str, port: int) -> None:
    """Refuse early, with the option named, when the address cannot be bound."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise BadInput(f"--host {host} --port {port}: cannot listen there ({exc.strerror})",
                           hint="choose another --port, or stop what listens on it") from exc


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (loopback by default)."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="Port to listen on."),
    db: str | None = typer.Option(None, "--db", help="Database URL (default: LAIF_DB_URL, else SQLite under LAIF_HOME)."),
    oidc_issuer: str | None = typer.Option(None, "--oidc-issuer", help="OpenID Connect provider's issuer URL."),
    oidc_client_id: str | None = typer.Option(None, "--oidc-client-id", help="This portal's client id at the provider."),
    oidc_mapping: Path | None = typer.Option(
        None, "--oidc-mapping", help="YAML file mapping the provider's group claim to organisations and roles."),
    secure_cookies: bool = typer.Option(False, "--secure-cookies", help="Send the session cookie over HTTPS only."),
    max_upload_mb: int = typer.Option(10, "--max-upload-mb", min=1, max=1024, help="Largest request body accepted."),
    demo: bool = typer.Option(False, "--demo", help="Seed the demo first (an SME with the runs of `make run`, a "
                                                    "qualification, two datasets) and print its one-time passwords."),
    monitor_spec: Path | None = typer.Option(
        None, "--monitor-spec", help="Monitoring spec: receive OTLP/HTTP GenAI spans into its stream at /otlp/v1/traces "
                                     "(a staff member's personal access token needed)."),
    workers: int = typer.Option(1, "--workers", min=0, max=64, help="Job workers in this process (0: none; then run "
                                                                   "`laif worker` beside it)."),
    dcat_base: str | None = typer.Option(None, "--dcat-base", envvar="LAIF_DCAT_BASE", help="Base URI of the "
                                         "datasets' DCAT-AP identifiers, e.g. https://data.example.lu/catalogue/."),
) -> None:
    """Serve the web portal. The database is migrated to the newest schema first; when no admin
    exists, the address and a one-time password for the account `admin` are printed here, once.
    The OpenID Connect client secret is read from LAIF_OIDC_CLIENT_SECRET, never from the command line."""
    from laif.portal.settings import OidcSettings, PortalSettings, RoleMapping, session_secret
    from laif.store.db import default_url

    oidc = None
    given = {"--oidc-issuer": oidc_issuer, "--oidc-client-id": oidc_client_id, "--oidc-mapping": oidc_mapping}
    if any(given.values()):
        missing = [name for name, value in given.items() if not value]
        if missing:
            raise BadInput(f"{', '.join(missing)}: needed with the other OpenID Connect options")
        secret = os.environ.get("LAIF_OIDC_CLIENT_SECRET", "")
        if not secret:
            raise BadInput("LAIF_OIDC_CLIENT_SECRET: set it to the client secret the provider gave this portal")
        assert oidc_issuer and oidc_client_id and oidc_mapping
        oidc = OidcSettings(issuer=oidc_issuer, client_id=oidc_client_id, client_secret=secret,
                            mapping=RoleMapping.load(oidc_mapping))
    if dcat_base is not None and not (dcat_base.startswith(("http://", "https://")) and dcat_base.endswith("/")):
        raise BadInput(f"--dcat-base {dcat_base}: give an http(s) URI ending in '/', e.g. https://data.example.lu/catalogue/")
    _check_port(host, port)
    settings = PortalSettings(db_url=db or default_url(), secret_key=session_secret(), cookie_secure=secure_cookies,
                              max_upload_bytes=max_upload_mb * 1024 * 1024, oidc=oidc, monitor_spec=monitor_spec,
                              workers=workers, dcat_base=dcat_base)

    import uvicorn

    from laif.portal.app import create_app
    from laif.portal.core import FIRST_ADMIN, Portal

    portal = Portal(settings)
    app = create_app(settings, portal)
    shown_host = f"[{host}]" if ":" in host else host
    address = f"http://{shown_host}:{port}/"
    password = portal.first_admin_password()
    typer.echo(f"laif portal on {address}")
    if password:
        # Printed here once, to the person who started the portal; stored only as a hash.
        typer.echo(f"first admin: sign in at {address}login as '{FIRST_ADMIN}' with the one-time password {password}")
        typer.echo("(you will be asked to choose your own password)")
    if demo:
        from laif.portal.demo import announce

        for line in announce(settings, portal, db or default_url(), address):
            typer.echo(line)
    from laif.portal.jobs import start_worker_thread

    for _ in range(settings.workers):  # assessments run here, never in a web request
        start_worker_thread(settings, portal=portal)
    err.print("press Ctrl-C to stop")
    # No access log: invitation links carry their token in the path.
    uvicorn.run(app, host=host, port=port, access_log=False, log_level="warning")
