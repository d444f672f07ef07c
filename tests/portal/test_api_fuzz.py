"""Schemathesis against the live schema, as an organisation admin and as a viewer, on seeded data.

Every operation of ``/api/schema/`` gets generated requests (valid and invalid input), once with a generated
path id and once with the id of a real seeded row, so the handlers run past their 404. Three checks, each
must hold for every response: no server error, the body matches the documented schema, the content type is
documented. The run is bounded by examples per operation (about a minute for both roles on two cores).
Requests go through the WSGI application in the test's own transaction: nothing is committed, no Celery task
is sent (services enqueue on commit), and appliances are loopback addresses where nothing answers.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.core.failures import FailureGroup
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from portal.models import AuditAction, Role
from portal.services.audit import audit_record
from portal.services.tokens import api_token_create
from tests.factories import (
    ApplianceAddressFactory,
    ApplianceFactory,
    ConfigurationBackupFactory,
    MembershipFactory,
    OrganizationFactory,
    RmaAttachmentFactory,
    RmaCaseFactory,
    UserFactory,
)
from tests.factories.certificates import CertificateFactory, ServedCertificateFactory
from tests.factories.failover import (
    AlertFactory,
    BackupSettingsFactory,
    ChangeLogEntryFactory,
    EvacuationFactory,
    EvacuationItemFactory,
    MaintenanceWindowFactory,
    OperationFactory,
    OperationStepFactory,
    PairFactory,
    PairStateChangeFactory,
    StatusChangeFactory,
    SyncRecordFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("schemathesis")]

EXAMPLES_PER_OPERATION = 12
CHECKS = [schemathesis.checks.not_a_server_error, response_schema_conformance, content_type_conformance]


@pytest.fixture
def wsgi_app():
    # Django's own test client keeps the test's connection across requests; a bare WSGI handler would close it
    # at the end of each request (and with it the test transaction), so do what the test client does.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def seed_organization():
    """A small, complete organisation: every list and detail route has a row to show."""
    organization = OrganizationFactory(slug="fuzz")
    other = OrganizationFactory(slug="fuzz-other")
    admin = UserFactory(username="fuzz-admin")
    viewer = UserFactory(username="fuzz-viewer")
    MembershipFactory(organization=organization, user=admin, role=Role.ADMIN)
    MembershipFactory(organization=organization, user=viewer, role=Role.VIEWER)
    MembershipFactory(organization=other, user=UserFactory(username="fuzz-stranger"), role=Role.ADMIN)
    pair = PairFactory(organization=organization, last_sync_at=None)
    second = PairFactory(organization=organization)
    ApplianceFactory(organization=other)
    for appliance in (pair.primary, pair.backup):
        ApplianceAddressFactory(appliance=appliance)
        BackupSettingsFactory(appliance=appliance)
        ConfigurationBackupFactory(appliance=appliance)
        CertificateFactory(appliance=appliance, with_key=True)
        ServedCertificateFactory(appliance=appliance)
        StatusChangeFactory(appliance=appliance)
    ConfigurationBackupFactory(appliance=pair.primary, status="failed", content=None, size_bytes=0, sha256="")
    RmaAttachmentFactory(case=RmaCaseFactory(appliance=pair.backup))
    PairStateChangeFactory(pair=pair)
    OperationFactory(pair=pair, status="running")
    # A runbook waiting for a person (with its change log and window), and an evacuation with one pair.
    runbook = OperationFactory(pair=second, kind="maintenance", status="running")
    OperationStepFactory(operation=runbook, name="maintenance", status="waiting", detail="Perform the maintenance")
    ChangeLogEntryFactory(operation=runbook, text="Added a group")
    MaintenanceWindowFactory(pair=None, appliance=second.primary, operation=runbook, organization=organization)
    EvacuationItemFactory(pair=pair, evacuation=EvacuationFactory(organization=organization, location="PAR-1"))
    SyncRecordFactory(pair=pair)
    SyncRecordFactory(pair=pair, finished_at=timezone.now() + timedelta(minutes=1), result="succeeded")
    AlertFactory(pair=pair)
    audit_record(actor=admin, organization=organization, action=AuditAction.UPDATE, obj=pair, summary="seeded")
    return organization, admin, viewer


def real_ids(app, schema, headers) -> dict[str, int]:
    """The first listed id of each collection, keyed by the collection's path ("/api/v1/pairs/")."""
    from werkzeug import Client

    client = Client(app)
    ids = {}
    for path in schema.raw_schema["paths"]:
        match = re.fullmatch(r"(/api/v1/[\w-]+/)\{id\}/.*", path)
        if not match or match.group(1) in ids:
            continue
        response = client.get(match.group(1), headers=headers)
        if response.status_code == 200:
            body = response.get_json()
            rows = body.get("results", body) if isinstance(body, dict) else body
            if rows:
                ids[match.group(1)] = rows[0]["id"]
    return ids


def fuzz(app, token: str) -> list[str]:
    headers = {"Authorization": f"Token {token}"}
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", app, headers=headers)
    ids = real_ids(app, schema, headers)
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        collection = re.match(r"(/api/v1/[\w-]+/)\{id\}/", operation.path)
        fixed_ids = [None]
        if collection and collection.group(1) in ids:
            fixed_ids.append({"id": ids[collection.group(1)]})
        for path_parameters in fixed_ids:
            strategy = operation.as_strategy(
                generation_mode=GenerationMode.POSITIVE, path_parameters=path_parameters
            ) | operation.as_strategy(generation_mode=GenerationMode.NEGATIVE, path_parameters=path_parameters)

            @settings(
                max_examples=EXAMPLES_PER_OPERATION,
                deadline=None,
                database=None,
                derandomize=True,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(case=strategy)
            def check(case):
                response = case.call(headers=headers)
                case.validate_response(response, checks=CHECKS)

            try:
                check()
            except FailureGroup as exc:
                failures.append(f"{operation.label}: {exc}")
            except Exception as exc:  # noqa: BLE001 - an exception raised by the app is a server error too
                failures.append(f"{operation.label}: {type(exc).__name__}: {exc}")
    return failures


@pytest.mark.parametrize("role", [Role.ADMIN, Role.VIEWER])
def test_schemathesis_finds_no_server_error_schema_violation_or_undocumented_content_type(wsgi_app, role):
    _, admin, viewer = seed_organization()
    _, token = api_token_create(actor=admin if role == Role.ADMIN else viewer, name="schemathesis")
    failures = fuzz(wsgi_app, token)
    assert failures == [], "\n\n".join(failures)
