"""A CSV adoption of existing pairs, run by a worker: reading hundreds of appliances takes longer than a request."""

from django.urls import reverse

from portal.models import CsvJob


class PairAdoptionImport(CsvJob):
    class Meta(CsvJob.Meta):
        pass

    def get_absolute_url(self) -> str:
        return reverse("failover:pair_adoption_status", args=[self.pk])
