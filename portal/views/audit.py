from ..filtersets import AuditEventFilterSet
from ..models import AuditEvent
from .generic import ObjectListView


class AuditEventListView(ObjectListView):
    model = AuditEvent
    filterset_class = AuditEventFilterSet
    select_related = ("organization",)
    table_template = "portal/includes/audit_table.html"
