"""Files sent with a request's messages: kept whole, served only as downloads, to the two sides
of the request only; a file over the limit is refused before anything is written."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlalchemy import func, select

from laif.portal.tables import AuditEntry, RequestAttachment, RequestMessage

from .portal_kit import Seeded, Visitor, make_portal, seed_people

CONTENT = b"model: our-chatbot-v2\nendpoint: https://bot.acme.lu/v1\n<script>alert(1)</script>\n"


@pytest.fixture()
def seeded(tmp_path: Path) -> Seeded:
    portal, app = make_portal(f"sqlite:///{tmp_path / 'portal.db'}", max_upload_bytes=64 * 1024)
    return Seeded(portal, app, seed_people(portal))


def _request_with_file(seeded: Seeded, filename: str = "system.yaml") -> tuple[int, Visitor]:
    owner = seeded.visitor("owner@acme.lu")
    created = owner.post("/requests", {"service_id": "sandbox"})
    request_id = int(created.headers["location"].rsplit("/", 1)[1])
    owner.get(f"/requests/{request_id}")
    sent = owner.post(f"/requests/{request_id}/messages", {"body": "Our system"}, files={"file": (filename, CONTENT)})
    assert sent.status_code == 303, sent.text
    return request_id, owner


def _file_id(seeded: Seeded) -> int:
    with seeded.portal.session() as s:
        return int(s.scalars(select(RequestAttachment.id)).one())


def test_the_advisor_downloads_the_file_as_it_was_sent(seeded: Seeded) -> None:
    request_id, _ = _request_with_file(seeded)
    advisor = seeded.visitor("advisor@factory.lu")
    page = advisor.get(f"/requests/{request_id}").text
    assert f'href="/requests/{request_id}/files/{_file_id(seeded)}"' in page and "system.yaml" in page
    download = advisor.client.get(f"/requests/{request_id}/files/{_file_id(seeded)}")
    assert download.content == CONTENT
    assert download.headers["content-type"] == "application/octet-stream"
    assert download.headers["content-disposition"] == "attachment; filename*=UTF-8''system.yaml"


def test_the_audit_log_records_the_files_hash(seeded: Seeded) -> None:
    _request_with_file(seeded)
    with seeded.portal.session() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "request.attach")).one()
    assert entry.detail["sha256"] == hashlib.sha256(CONTENT).hexdigest() and entry.actor == "owner@acme.lu"


def test_a_file_name_with_folders_keeps_only_its_last_part(seeded: Seeded) -> None:
    _request_with_file(seeded, filename="../../../etc/passwd")
    with seeded.portal.session() as s:
        assert s.scalars(select(RequestAttachment.filename)).one() == "passwd"


def test_a_path_in_the_download_address_finds_nothing(seeded: Seeded) -> None:
    request_id, owner = _request_with_file(seeded)
    for path in (f"/requests/{request_id}/files/..%2F..%2Fetc%2Fpasswd", f"/requests/{request_id}/files/../../../etc/passwd",
                 f"/requests/{request_id}/files/%2e%2e%2fportal.db"):
        response = owner.client.get(path, follow_redirects=False)
        assert response.status_code in (404, 422), path
        assert b"root:" not in response.content and CONTENT not in response.content


def test_another_organisation_cannot_download_the_file(seeded: Seeded) -> None:
    request_id, _ = _request_with_file(seeded)
    beta = seeded.visitor("owner@beta.lu")
    response = beta.client.get(f"/requests/{request_id}/files/{_file_id(seeded)}")
    assert response.status_code == 404 and CONTENT not in response.content


def test_a_file_over_the_limit_is_refused_and_nothing_is_written(seeded: Seeded) -> None:
    owner = seeded.visitor("owner@acme.lu")
    created = owner.post("/requests", {"service_id": "sandbox"})
    request_id = int(created.headers["location"].rsplit("/", 1)[1])
    owner.get(f"/requests/{request_id}")
    response = owner.post(f"/requests/{request_id}/messages", {"body": "big"}, files={"file": ("big.bin", b"x" * 70_000)})
    assert response.status_code == 413
    with seeded.portal.session() as s:
        assert s.scalar(select(func.count()).select_from(RequestAttachment)) == 0
        assert s.scalar(select(func.count()).select_from(RequestMessage)) == 0
