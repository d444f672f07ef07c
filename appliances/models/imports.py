"""A CSV import of appliances, run by a worker: the request only checks the file's shape and queues it."""

from django.urls import reverse

from portal.models import CsvJob, ImportStatus

__all__ = ["ApplianceImport", "ImportStatus"]


class ApplianceImport(CsvJob):
    class Meta(CsvJob.Meta):
        pass

    def get_absolute_url(self) -> str:
        return reverse("appliances:appliance_import_status", args=[self.pk])
