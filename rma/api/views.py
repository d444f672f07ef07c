"""REST for RMA cases: list/read with steps, open a case, record a step (same forms and rules as the UI)."""

from django.core.exceptions import ValidationError
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from appliances.models import Appliance
from portal.api.fields import TenantRelatedField
from portal.api.parsers import JSONParser
from portal.api.viewsets import TenantReadOnlyViewSet, TenantViewSetMixin
from portal.http import attachment_response
from portal.models import Role

from ..filtersets import RmaFilterSet
from ..forms import STEP_FORMS, step_data
from ..models import ApplianceHardwareRecord, RestorePath, RmaAttachment, RmaCase, RmaStep
from ..rules import STEP_RULES, next_step, step_blockers
from ..services import ALLOWED_SIGNATURES, rma_open, rma_record_step


class RmaStepSerializer(serializers.ModelSerializer):
    done_by = serializers.CharField(source="done_by.username", read_only=True, default=None)
    blocked_reasons = serializers.SerializerMethodField()
    attachments = serializers.SerializerMethodField()

    class Meta:
        model = RmaStep
        fields = ["key", "position", "state", "done_at", "done_by", "recorded_at", "notes", "details",
                  "blocked_reasons", "attachments"]

    def get_blocked_reasons(self, step) -> list[str]:
        steps = self.context.get("steps_by_key")
        return step_blockers(step, steps) if steps and not step.is_done else []

    def get_attachments(self, step) -> list[dict]:
        return [{"id": a.pk, "name": a.original_name, "content_type": a.content_type, "size_bytes": a.size_bytes}
                for a in step.attachments.all()]


class HardwareRecordSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApplianceHardwareRecord
        fields = ["event", "model", "serial_number", "appliance_guid", "management_host", "management_port", "created_at"]


class RmaCaseSerializer(serializers.ModelSerializer):
    appliance = TenantRelatedField(queryset=Appliance.objects.all(), role=Role.OPERATOR)
    days_open = serializers.SerializerMethodField()
    steps = serializers.SerializerMethodField()
    next_step = serializers.SerializerMethodField()
    hardware_history = HardwareRecordSerializer(source="hardware_records", many=True, read_only=True)
    url = serializers.HyperlinkedIdentityField(view_name="rma-api:rmacase-detail")
    # Empty until the restore step chose one: the schema must say "" is a value too.
    restore_path = serializers.ChoiceField(choices=RestorePath.choices, read_only=True, allow_blank=True)

    class Meta:
        model = RmaCase
        fields = [
            "id", "url", "organization", "appliance", "pair", "reason", "vendor_case_number", "status", "status_since",
            "days_open", "closed_at", "created_at", "defective_model", "defective_serial", "defective_guid",
            "replacement_model", "replacement_serial", "replacement_guid", "restore_path", "restore_backup",
            "return_tracking_number", "next_step", "steps", "hardware_history",
        ]
        read_only_fields = [f for f in fields if f not in ("appliance", "reason", "vendor_case_number")]

    def _steps(self, case) -> list:
        steps = sorted(case.steps.all(), key=lambda s: s.position)
        for step in steps:
            step.case = case
        return steps

    def get_days_open(self, case) -> int:
        return ((case.closed_at or timezone.now()) - case.created_at).days

    def get_steps(self, case) -> list[dict]:
        steps = self._steps(case)
        context = {**self.context, "steps_by_key": {s.key: s for s in steps}}
        return RmaStepSerializer(steps, many=True, context=context).data

    def get_next_step(self, case) -> str | None:
        step = next_step(self._steps(case))
        return step.key if step else None


class RecordStepSerializer(serializers.Serializer):
    """Documentation of the payload: ``step`` plus that step's fields (see the case page's forms)."""

    step = serializers.ChoiceField(choices=list(STEP_RULES))
    notes = serializers.CharField(required=False, allow_blank=True)
    attachment = serializers.FileField(required=False, help_text="PNG, JPEG or PDF, at most 10 MiB (multipart).")


class RmaCaseViewSet(TenantViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                     viewsets.GenericViewSet):
    queryset = RmaCase.objects.all()
    serializer_class = RmaCaseSerializer
    filterset_class = RmaFilterSet
    select_related = ("appliance", "pair")
    prefetch_related = ("steps__done_by", "steps__attachments", "hardware_records")
    action_roles = {"create": Role.OPERATOR, "record_step": Role.OPERATOR}
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    def perform_create(self, serializer):
        data = serializer.validated_data
        self.require_role_on(data["appliance"].organization_id)
        try:
            serializer.instance = rma_open(actor=self.request.user, appliance=data["appliance"], reason=data["reason"],
                                           vendor_case_number=data.get("vendor_case_number", ""))
        except ValidationError as exc:
            raise ApiValidationError(exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}) from exc

    @extend_schema(request=RecordStepSerializer, responses={200: RmaCaseSerializer})
    @action(detail=True, methods=["post"], url_path="record-step")
    def record_step(self, request, pk=None):
        case = self.get_object()
        key = request.data.get("step", "")
        if key not in STEP_FORMS:
            raise ApiValidationError({"step": [f"Choose one of: {', '.join(STEP_RULES)}."]})
        self.require_role_on(case.organization_id)
        form = STEP_FORMS[key](request.data, request.FILES, case=case, user=request.user)
        if not form.is_valid():
            raise ApiValidationError(form.errors.get_json_data())
        files = [form.cleaned_data["attachment"]] if form.cleaned_data.get("attachment") else []
        try:
            rma_record_step(actor=request.user, case=case, key=key, data=step_data(form),
                            notes=form.cleaned_data["notes"], attachments=files)
        except ValidationError as exc:
            detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
            raise ApiValidationError(detail) from exc
        case = self.get_queryset().get(pk=case.pk)
        return Response(self.get_serializer(case).data, status=status.HTTP_200_OK)


class RmaAttachmentSerializer(serializers.ModelSerializer):
    step = serializers.CharField(source="step.key", read_only=True, default=None, allow_null=True)
    download_url = serializers.HyperlinkedIdentityField(view_name="rma-api:rmaattachment-download")

    class Meta:
        model = RmaAttachment
        fields = ["id", "organization", "case", "step", "original_name", "content_type", "size_bytes", "created_at",
                  "download_url"]
        read_only_fields = fields


class RmaAttachmentViewSet(TenantReadOnlyViewSet):
    queryset = RmaAttachment.objects.all()
    serializer_class = RmaAttachmentSerializer
    select_related = ("step",)
    filterset_fields = ["case"]

    # Served with the type sniffed at upload: one of the accepted kinds.
    @extend_schema(responses={(200, kind): OpenApiTypes.BINARY for kind in sorted(set(ALLOWED_SIGNATURES.values()))})
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        attachment = self.get_object()
        return attachment_response(
            attachment.file.open("rb"), filename=attachment.original_name, content_type=attachment.content_type
        )
