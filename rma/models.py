"""Hardware replacement (RMA) cases: the case, its steps, their attachments, and the hardware history of an
inventory slot (which physical appliance served it, and when)."""

from django.conf import settings
from django.db import models
from django.urls import reverse

from portal.models import TenantModel


class RmaStatus(models.TextChoices):
    OPEN = "open", "Open"
    WAITING_VENDOR = "waiting_vendor", "Waiting on vendor"
    WAITING_US = "waiting_us", "Waiting on us"
    CLOSED = "closed", "Closed"


class RmaStepKey(models.TextChoices):
    """The replacement procedure, in order (rules per step in ``rma.rules``, forms in ``rma.forms``)."""

    RECEIVED = "received", "Replacement received and first login done"
    NETWORK = "network", "Network configured and checked"
    CERTIFICATES = "certificates", "Certificates imported and parity verified"
    REGISTERED = "registered", "Registered with the vendor"
    FAILOVER = "failover", "Failover restored"
    SUPPORT_NOTIFIED = "support_notified", "Support notified, return label received"
    RETURNED = "returned", "Defective appliance reset and shipped"


class RmaStepState(models.TextChoices):
    PENDING = "pending", "To do"
    WAITING_VENDOR = "waiting_vendor", "Waiting on vendor"
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"


class RestorePath(models.TextChoices):
    SYNCHRONOUS = "synchronous", "Synchronous (install the new package, then establish)"
    ASYNCHRONOUS = "asynchronous", "Asynchronous (restore the primary's backup first)"
    ORIGINAL_PACKAGE = "original_package", "Original software package installed"


class RmaCase(TenantModel):
    """A defective appliance being replaced. ``appliance`` is the inventory slot: it keeps its row (and so its
    pair membership) while its hardware identity is swapped for the replacement's."""

    appliance = models.ForeignKey("appliances.Appliance", on_delete=models.PROTECT, related_name="rma_cases")
    pair = models.ForeignKey(
        "failover.Pair", on_delete=models.SET_NULL, null=True, blank=True, related_name="rma_cases",
        help_text="The pair the appliance belonged to when the case was opened.",
    )
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    reason = models.TextField(help_text="What failed, as agreed with the vendor's support.")
    vendor_case_number = models.CharField(max_length=64, blank=True, verbose_name="vendor support case number")
    status = models.CharField(max_length=16, choices=RmaStatus.choices, default=RmaStatus.OPEN, db_index=True)
    status_since = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    defective_model = models.CharField(max_length=50, blank=True)
    defective_serial = models.CharField(max_length=64, blank=True)
    defective_guid = models.CharField(max_length=32, blank=True)
    replacement_model = models.CharField(max_length=50, blank=True)
    replacement_serial = models.CharField(max_length=64, blank=True)
    replacement_guid = models.CharField(max_length=32, blank=True)
    restore_path = models.CharField(max_length=20, choices=RestorePath.choices, blank=True)
    restore_backup = models.ForeignKey(
        "appliances.ConfigurationBackup", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    return_tracking_number = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "RMA case"
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "appliance"],
                condition=~models.Q(status="closed"),
                name="rma_one_open_case_per_appliance",
                violation_error_message="This appliance already has an open RMA case.",
            )
        ]

    def __str__(self) -> str:
        number = f" ({self.vendor_case_number})" if self.vendor_case_number else ""
        return f"RMA #{self.pk} {self.appliance}{number}"

    def get_absolute_url(self) -> str:
        return reverse("rma:case", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status != RmaStatus.CLOSED


class RmaStep(TenantModel):
    case = models.ForeignKey(RmaCase, on_delete=models.CASCADE, related_name="steps")
    key = models.CharField(max_length=24, choices=RmaStepKey.choices)
    position = models.PositiveSmallIntegerField()
    state = models.CharField(max_length=16, choices=RmaStepState.choices, default=RmaStepState.PENDING)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    recorded_at = models.DateTimeField(null=True, blank=True, help_text="Last time something was recorded.")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    notes = models.TextField(blank=True)
    # What was recorded for the step (plain, never secret: credentials go to the appliance's encrypted fields).
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["case", "position"]
        constraints = [models.UniqueConstraint(fields=["organization", "case", "key"], name="rma_step_unique_key")]

    def __str__(self) -> str:
        return f"{self.position}. {self.get_key_display()}"

    def get_absolute_url(self) -> str:
        return self.case.get_absolute_url() + f"#step-{self.key}"

    @property
    def is_done(self) -> bool:
        return self.state == RmaStepState.DONE


def attachment_path(instance, filename: str) -> str:
    # Never the uploaded name on disk: it is untrusted and shown only as a label.
    return f"rma/{instance.organization_id}/{instance.case_id}/{instance.token}"


class RmaAttachment(TenantModel):
    """A file kept with a step (status page screenshot, shipping label). Served only through a view that checks
    the tenancy chokepoint; MEDIA_ROOT is never published."""

    case = models.ForeignKey(RmaCase, on_delete=models.CASCADE, related_name="attachments")
    step = models.ForeignKey(RmaStep, on_delete=models.CASCADE, null=True, blank=True, related_name="attachments")
    token = models.CharField(max_length=64, editable=False)
    file = models.FileField(upload_to=attachment_path, max_length=200)
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size_bytes = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.original_name

    def get_absolute_url(self) -> str:
        return reverse("rma:attachment", args=[self.pk])


class HardwareEvent(models.TextChoices):
    REMOVED = "removed", "Removed (defective)"
    INSTALLED = "installed", "Installed (replacement)"


class ApplianceHardwareRecord(TenantModel):
    """Which physical appliance served an inventory slot: both serial numbers of every replacement stay."""

    appliance = models.ForeignKey("appliances.Appliance", on_delete=models.CASCADE, related_name="hardware_history")
    case = models.ForeignKey(RmaCase, on_delete=models.SET_NULL, null=True, blank=True, related_name="hardware_records")
    event = models.CharField(max_length=16, choices=HardwareEvent.choices)
    model = models.CharField(max_length=50, blank=True)
    serial_number = models.CharField(max_length=64, blank=True)
    appliance_guid = models.CharField(max_length=32, blank=True)
    management_host = models.CharField(max_length=253, blank=True)
    management_port = models.PositiveIntegerField(null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")

    class Meta:
        ordering = ["appliance", "-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.appliance}: {self.get_event_display()} {self.serial_number or self.appliance_guid}"

    def get_absolute_url(self) -> str:
        return self.appliance.get_absolute_url()
