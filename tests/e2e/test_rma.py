"""In a browser: open an RMA case from the appliance page, see why later steps wait, record the first step with
a screenshot attached, and find the case in the RMA list."""

import pytest

from portal.models import Role
from rma.models import RmaCase, RmaStepState
from tests.factories import ApplianceFactory, PairFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_open_a_case_and_record_the_first_step(page, sign_in, org_a, make_member, tmp_path):
    admin = make_member(org_a, Role.ADMIN, username="rma-admin")
    pair = PairFactory(organization=org_a, backup=ApplianceFactory(organization=org_a, name="edge-b", serial_number="OLD-1"))
    sign_in(admin)
    page.goto(f"/appliances/{pair.backup.pk}/")
    page.click("text=Open an RMA case")
    page.fill("#id_reason", "Fans stopped; vendor agreed to replace")
    page.fill("#id_vendor_case_number", "BT-77")
    page.click("input[type=submit]")
    page.wait_for_url("**/appliances/rma/*/")
    assert "Next action" in page.locator("#rma-next").inner_text()
    shipping = page.locator("#step-returned")
    assert "must be done first" in shipping.inner_text()
    assert shipping.locator("form").count() == 0  # nothing to press before its time

    screenshot = tmp_path / "status.png"
    screenshot.write_bytes(PNG)
    step = page.locator("#step-received")
    step.locator("#id_received_replacement_model").fill("B400")
    step.locator("#id_received_replacement_serial").fill("NEW-2")
    step.locator("#id_received_first_login_done").check()
    step.locator("#id_received_default_password_changed").check()
    step.locator("#id_received_attachment").set_input_files(str(screenshot))
    step.locator("button[type=submit]").click()
    page.wait_for_selector("#step-received .badge.text-bg-success")
    assert "status.png" in page.locator("#step-received").inner_text()
    case = RmaCase.objects.get(vendor_case_number="BT-77")
    assert case.steps.get(key="received").state == RmaStepState.DONE and case.replacement_serial == "NEW-2"

    page.goto("/appliances/rma/")
    row = page.locator("#rma-table tbody tr", has_text="BT-77")
    assert "Waiting on us" in row.inner_text()
