"""Best-practice findings, stored: one row per pair and broken rule, kept up to date when a fact the rules read
changes (``failover.services.advice``), so the advice pages and API read rows instead of re-running the rules."""

from django.db import models
from django.urls import reverse

from portal.models import TenantModel


class FindingSeverity(models.TextChoices):
    DANGER = "danger", "Risk of data loss or outage"
    WARNING = "warning", "Deviation from best practice"
    INFO = "info", "Note"


#: Most severe first: the order of the lists and of the grouped counts (a column, so an index serves it).
SEVERITY_RANK = {FindingSeverity.DANGER: 0, FindingSeverity.WARNING: 1, FindingSeverity.INFO: 2}


class AdviceFinding(TenantModel):
    """A rule of ``failover.advisor.RULES`` that ``pair`` breaks, with the advisor's text as of ``checked_at``."""

    pair = models.ForeignKey("failover.Pair", on_delete=models.CASCADE, related_name="findings")
    code = models.CharField(max_length=48)
    severity = models.CharField(max_length=8, choices=FindingSeverity.choices)
    rank = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=200)
    why = models.TextField()
    fix = models.TextField()
    # The pair's site name, copied: the lists sort and search on it without joining the pairs.
    site_hostname = models.CharField(max_length=253)
    since = models.DateTimeField(help_text="When the rule was first seen broken (kept while it stays broken).")
    checked_at = models.DateTimeField()

    class Meta:
        ordering = ["rank", "site_hostname", "pair_id", "code"]
        constraints = [models.UniqueConstraint(fields=["pair", "code"], name="advice_finding_one_per_rule")]
        indexes = [
            # The fleet page's order, for a platform operator and for one organisation.
            models.Index(fields=["rank", "site_hostname", "pair", "code"], name="advice_finding_order"),
            models.Index(fields=["organization", "rank", "site_hostname", "pair", "code"], name="advice_finding_org_order"),
            # The grouped counts and the "only this finding" filter.
            models.Index(fields=["code", "severity"], name="advice_finding_code"),
        ]

    def __str__(self) -> str:
        return f"{self.site_hostname}: {self.title}"

    def get_pair_url(self) -> str:
        return reverse("failover:pair", args=[self.pair_id])
