import factory

from rma.models import RmaStep
from rma.rules import STEP_ORDER

from .appliances import ApplianceFactory


class RmaCaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "rma.RmaCase"
        skip_postgeneration_save = True

    appliance = factory.SubFactory(ApplianceFactory)
    organization = factory.SelfAttribute("appliance.organization")
    reason = "Power supply failed"
    vendor_case_number = factory.Sequence(lambda n: f"VC-{n:05d}")
    defective_serial = factory.SelfAttribute("appliance.serial_number")

    @factory.post_generation
    def steps(self, create, extracted, **kwargs):
        if create:
            RmaStep.objects.bulk_create(
                RmaStep(organization_id=self.organization_id, case=self, key=key, position=i)
                for i, key in enumerate(STEP_ORDER, start=1)
            )


PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


class RmaAttachmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "rma.RmaAttachment"

    case = factory.SubFactory(RmaCaseFactory)
    organization = factory.SelfAttribute("case.organization")
    token = factory.Sequence(lambda n: f"tok{n:08d}")
    file = factory.django.FileField(data=PNG_BYTES, filename="screenshot.png")
    original_name = "screenshot.png"
    content_type = "image/png"
    size_bytes = len(PNG_BYTES)


class ApplianceHardwareRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "rma.ApplianceHardwareRecord"

    appliance = factory.SubFactory(ApplianceFactory)
    organization = factory.SelfAttribute("appliance.organization")
    event = "removed"
    model = "B300"
    serial_number = factory.Sequence(lambda n: f"OLD{n:06d}")
