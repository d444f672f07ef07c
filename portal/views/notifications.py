"""Notification settings (channels, routes, silences), an alert's page with its deliveries, acknowledgement
from the UI and from the signed link in a message. Thin: every write is a service."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from ..forms import ChannelForm, RouteForm, SilenceForm
from ..models import Alert, NotificationChannel, NotificationRoute, Silence
from ..notifications.links import ack_token_alert_ids
from ..notifications.matchers import matchers_text
from ..permissions import SYSTEM, has_role, require_role
from ..services.alerts import alerts_acknowledge
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
from .generic import ObjectDeleteView, ObjectDetailView, ObjectEditView, ObjectListView


class ChannelListView(ObjectListView):
    model = NotificationChannel
    select_related = ("organization",)
    defer = ("url",)  # the secret is never loaded for a page
    table_template = "portal/notifications/channel_table.html"
    add_url_name = "portal:channel_add"
    extra_buttons_template = "portal/notifications/settings_nav.html"


class ChannelEditView(ObjectEditView):
    model = NotificationChannel
    form_class = ChannelForm
    template_name = "portal/notifications/channel_edit.html"

    def save(self, form, instance):
        data = dict(form.cleaned_data)
        if instance is None:
            return channel_create(actor=self.request.user, **data)
        data.pop("organization", None)
        return channel_update(actor=self.request.user, channel=instance, data=data)

    def get_success_url(self):
        return self.object.get_absolute_url()


class ChannelDeleteView(ObjectDeleteView):
    model = NotificationChannel
    success_url_name = "portal:channel_list"

    def delete(self, instance):
        channel_delete(actor=self.request.user, channel=instance)


@login_required
@require_POST
def channel_test_view(request, pk):
    channel = get_object_or_404(NotificationChannel.objects.for_user(request.user), pk=pk)
    require_role(request.user, channel.organization_id, NOTIFICATION_ROLES["channel"])
    ok, result = channel_test(actor=request.user, channel=channel)
    (messages.success if ok else messages.error)(request, f"Test message: {result}")
    return HttpResponseRedirect(channel.get_absolute_url())


class RouteListView(ObjectListView):
    model = NotificationRoute
    select_related = ("organization", "escalation_channel")
    prefetch_related = ("channels",)
    table_template = "portal/notifications/route_table.html"
    add_url_name = "portal:route_add"
    extra_buttons_template = "portal/notifications/settings_nav.html"


class RouteEditView(ObjectEditView):
    model = NotificationRoute
    form_class = RouteForm

    def save(self, form, instance):
        data = dict(form.cleaned_data)
        organization = data.pop("organization", None) or instance.organization
        return route_save(actor=self.request.user, organization=organization, data=data, route=instance)


class RouteDeleteView(ObjectDeleteView):
    model = NotificationRoute
    success_url_name = "portal:route_list"

    def delete(self, instance):
        route_delete(actor=self.request.user, route=instance)


class SilenceListView(ObjectListView):
    model = Silence
    select_related = ("organization", "created_by")
    table_template = "portal/notifications/silence_table.html"
    add_url_name = "portal:silence_add"
    add_role = NOTIFICATION_ROLES["silence"]
    extra_buttons_template = "portal/notifications/settings_nav.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["now"] = timezone.now()
        return context


class SilenceCreateView(ObjectEditView):
    model = Silence
    form_class = SilenceForm
    required_role = NOTIFICATION_ROLES["silence"]

    def get_initial(self):
        # "Silence like this" from an alert's page: its labels as matchers.
        alert_id = self.request.GET.get("alert", "")
        if alert_id.isdigit():
            alert = Alert.objects.for_user(self.request.user).filter(pk=alert_id).first()
            if alert is not None:
                keep = {k: v for k, v in alert.labels.items() if k in ("kind", "pair", "appliance")}
                return {"matchers": matchers_text([{"label": k, "op": "=", "value": str(v)}
                                                   for k, v in keep.items()]),
                        "organization": alert.organization_id}
        return {}

    def save(self, form, instance):
        data = form.cleaned_data
        return silence_create(actor=self.request.user, organization=data["organization"], matchers=data["matchers"],
                              starts_at=data.get("starts_at"), ends_at=data["ends_at"], comment=data["comment"])


@login_required
@require_POST
def silence_expire_view(request, pk):
    silence = get_object_or_404(Silence.objects.for_user(request.user), pk=pk)
    silence_expire(actor=request.user, silence=silence)
    messages.success(request, f"Silence “{silence}” expired.")
    return HttpResponseRedirect(silence.get_absolute_url())


class AlertDetailView(ObjectDetailView):
    model = Alert
    select_related = ("organization", "acknowledged_by", "resolved_by", "silence")
    template_name = "portal/notifications/alert_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        alert = self.object
        context.update(
            deliveries=alert.notifications.order_by("-created_at")[:100],
            labels_text=matchers_text([{"label": k, "op": "=", "value": str(v)} for k, v in alert.labels.items()
                                       if not isinstance(v, list)]),
            can_acknowledge=has_role(self.request.user, alert.organization_id, NOTIFICATION_ROLES["acknowledge"])
            and alert.acknowledged_at is None,
        )
        return context


@login_required
@require_POST
def alert_acknowledge_view(request, pk):
    alert = get_object_or_404(Alert.objects.for_user(request.user), pk=pk)
    alerts_acknowledge(actor=request.user, alerts=[alert], via="the alert's page")
    messages.success(request, "Alert acknowledged: it will not be repeated or escalated.")
    return HttpResponseRedirect(alert.get_absolute_url())


def alert_ack_link(request, token):
    """The link in a message: whoever holds it may acknowledge what the message listed (that is what signing it
    means), signed in or not. GET only shows what will be acknowledged: mail scanners and chat previews open
    links, and must not acknowledge anything. The POST checks the signature again."""
    try:
        alert_ids = ack_token_alert_ids(token)
    except signing.SignatureExpired:
        return render(request, "portal/notifications/alert_ack_link.html", {"error": "This link has expired."},
                      status=410)
    except signing.BadSignature:
        return render(request, "portal/notifications/alert_ack_link.html", {"error": "This link is not valid."},
                      status=404)
    alerts = list(Alert.objects.filter(pk__in=alert_ids).select_related("organization"))
    done = 0
    if request.method == "POST":
        # The signature is the authority: a signed-in operator is named in the audit log, anyone else holding
        # the link acts as the system, and the log says it came through the link.
        person = all(has_role(request.user, a.organization_id, NOTIFICATION_ROLES["acknowledge"]) for a in alerts)
        done = alerts_acknowledge(actor=request.user if person else SYSTEM, alerts=alerts,
                                  via="the signed link in a message")
        alerts = list(Alert.objects.filter(pk__in=alert_ids).select_related("organization"))
    return render(request, "portal/notifications/alert_ack_link.html",
                  {"alerts": alerts, "acknowledged": request.method == "POST", "done": done})




# The object each function view acts on (the generic tenancy tests read it).
channel_test_view.model = NotificationChannel
silence_expire_view.model = Silence
alert_acknowledge_view.model = Alert
