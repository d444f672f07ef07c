"""REST for notification settings: channels (the URL is write-only; the redacted form is what reads show),
routes, silences, and a channel's test. Writes go through the same services as the UI."""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from ..models import NotificationChannel, NotificationRoute, Organization, Silence
from ..services.notification_settings import (
    NOTIFICATION_ROLES,
    channel_create,
    channel_delete,
    channel_test,
    channel_update,
    route_delete,
    route_save,
    silence_create,
    silence_expire,
)
from .fields import TenantRelatedField
from .serializers import TenantModelSerializer
from .viewsets import TenantModelViewSet, crud_action_roles, mixins, viewsets
from .viewsets import TenantViewSetMixin as _Tenant


def _field_errors(exc: DjangoValidationError) -> serializers.ValidationError:
    return serializers.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages})


class MatcherSerializer(serializers.Serializer):
    label = serializers.RegexField(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
    op = serializers.ChoiceField(choices=["=", "!=", "=~", "!~"])
    value = serializers.CharField(allow_blank=True)


class ChannelSerializer(TenantModelSerializer):
    url = serializers.CharField(write_only=True, required=False, allow_blank=True,
                                help_text="Apprise URL. Write-only: reads show url_redacted.")

    class Meta:
        model = NotificationChannel
        fields = ["id", "organization", "name", "kind", "url", "url_redacted", "recipients", "enabled",
                  "last_test_at", "last_test_ok", "last_test_result", "created_at"]
        read_only_fields = ["url_redacted", "last_test_at", "last_test_ok", "last_test_result", "created_at"]


class ChannelTestResultSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    result = serializers.CharField()


class ChannelViewSet(TenantModelViewSet):
    queryset = NotificationChannel.objects.all()
    serializer_class = ChannelSerializer
    action_roles = {**crud_action_roles(dict.fromkeys(("create", "update", "delete"), NOTIFICATION_ROLES["channel"])),
                    "test": NOTIFICATION_ROLES["channel"]}
    filterset_fields = ["organization", "kind", "enabled"]

    def get_queryset(self):
        return super().get_queryset().defer("url")

    def perform_create(self, serializer):
        try:
            serializer.instance = channel_create(actor=self.request.user, **serializer.validated_data)
        except DjangoValidationError as exc:
            raise _field_errors(exc) from exc

    def perform_update(self, serializer):
        data = {k: v for k, v in serializer.validated_data.items() if k != "organization"}
        try:
            serializer.instance = channel_update(actor=self.request.user, channel=serializer.instance, data=data)
        except DjangoValidationError as exc:
            raise _field_errors(exc) from exc

    def perform_destroy(self, instance):
        channel_delete(actor=self.request.user, channel=instance)

    @extend_schema(request=None, responses=ChannelTestResultSerializer)
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        channel = NotificationChannel.objects.for_user(request.user).get(pk=self.get_object().pk)
        ok, result = channel_test(actor=request.user, channel=channel)
        return Response({"ok": ok, "result": result})


class RouteSerializer(TenantModelSerializer):
    matchers = MatcherSerializer(many=True, required=False)
    group_by = serializers.ListField(child=serializers.RegexField(r"^[a-zA-Z_][a-zA-Z0-9_]*$"), required=False)
    channels = TenantRelatedField(many=True, queryset=NotificationChannel.objects.all(), required=False)
    escalation_channel = TenantRelatedField(queryset=NotificationChannel.objects.all(), required=False,
                                            allow_null=True)

    class Meta:
        model = NotificationRoute
        fields = ["id", "organization", "name", "position", "matchers", "channels", "continue_matching", "group_by",
                  "group_wait", "group_interval", "repeat_interval", "send_resolved", "escalation_channel",
                  "escalate_after", "created_at"]
        read_only_fields = ["created_at"]


class RouteViewSet(TenantModelViewSet):
    queryset = NotificationRoute.objects.all()
    serializer_class = RouteSerializer
    action_roles = crud_action_roles(dict.fromkeys(("create", "update", "delete"), NOTIFICATION_ROLES["route"]))
    prefetch_related = ("channels",)
    filterset_fields = ["organization"]

    def _save(self, serializer, route=None):
        data = dict(serializer.validated_data)
        organization = data.pop("organization", None) or route.organization
        try:
            serializer.instance = route_save(actor=self.request.user, organization=organization, data=data,
                                             route=route)
        except DjangoValidationError as exc:
            raise _field_errors(exc) from exc

    def perform_create(self, serializer):
        self._save(serializer)

    def perform_update(self, serializer):
        self._save(serializer, serializer.instance)

    def perform_destroy(self, instance):
        route_delete(actor=self.request.user, route=instance)


class SilenceSerializer(TenantModelSerializer):
    organization = TenantRelatedField(queryset=Organization.objects.all(), role=NOTIFICATION_ROLES["silence"])
    matchers = MatcherSerializer(many=True)
    starts_at = serializers.DateTimeField(required=False)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = Silence
        fields = ["id", "organization", "matchers", "starts_at", "ends_at", "comment", "created_by", "created_at"]
        read_only_fields = ["created_by", "created_at"]


class SilenceViewSet(_Tenant, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Silences are created and expired, never edited (what was silenced when stays readable)."""

    queryset = Silence.objects.all()
    serializer_class = SilenceSerializer
    select_related = ("created_by",)
    filterset_fields = ["organization"]
    action_roles = {"create": NOTIFICATION_ROLES["silence"], "expire": NOTIFICATION_ROLES["silence"]}

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        try:
            serializer.instance = silence_create(actor=self.request.user, **data)
        except DjangoValidationError as exc:
            raise _field_errors(exc) from exc

    @extend_schema(request=None, responses=SilenceSerializer)
    @action(detail=True, methods=["post"])
    def expire(self, request, pk=None):
        silence = silence_expire(actor=request.user, silence=self.get_object())
        return Response(SilenceSerializer(silence, context=self.get_serializer_context()).data)
