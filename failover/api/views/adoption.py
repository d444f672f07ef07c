"""Adopting existing pairs over REST: one pair, a CSV of many (queued for a worker, all or nothing), and the pairs
the probes propose."""

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from appliances.models import Appliance
from portal.api.fields import TenantRelatedField
from portal.models import Organization, Role

from ...adoption_selectors import adoption_proposals
from ...models import NetworkMethod, PairAdoptionImport
from ...services.adoption import pair_adopt, pairs_adopt_csv_request
from ..serializers import PairSerializer


class AdoptRequestSerializer(serializers.Serializer):
    first = TenantRelatedField(queryset=Appliance.objects.all(), help_text="One appliance of the existing pair.")
    second = TenantRelatedField(queryset=Appliance.objects.all(), help_text="The other one (any order).")
    site_hostname = serializers.CharField(required=False, allow_blank=True, max_length=253,
                                          help_text="The site name; optional when both appliances record the same.")
    normal_primary = TenantRelatedField(
        queryset=Appliance.objects.all(), required=False, allow_null=True,
        help_text="Only for a pair running on its backup: the appliance that is normally primary.")
    network_method = serializers.ChoiceField(choices=NetworkMethod.choices, required=False, allow_blank=True,
                                             help_text="Needed only when the primary reports no shared IP.")
    dns_server = serializers.CharField(required=False, allow_blank=True, max_length=253)
    dns_zone = serializers.CharField(required=False, allow_blank=True, max_length=253)
    nat_public_address = serializers.IPAddressField(required=False, allow_blank=True)
    nat_device = serializers.CharField(required=False, allow_blank=True, max_length=253)


class AdoptCsvRequestSerializer(serializers.Serializer):
    organization = TenantRelatedField(queryset=Organization.objects.all())
    file = serializers.FileField(help_text="CSV: first,second[,site_hostname,normal_primary,network_method,...]")


class AdoptCsvJobSerializer(serializers.ModelSerializer):
    """A queued CSV adoption: poll ``url`` until ``status`` is succeeded (every pair adopted) or failed (none,
    ``errors`` says why per row)."""

    organization = serializers.IntegerField(source="organization_id", read_only=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = PairAdoptionImport
        fields = ["id", "organization", "filename", "status", "total_rows", "processed_rows", "created_count",
                  "errors", "created_at", "finished_at", "url"]
        read_only_fields = fields

    def get_url(self, job) -> str:
        return self.context["request"].build_absolute_uri(
            reverse("failover-api:pair-adoption-csv-job", kwargs={"job_id": job.pk}))


class AdoptionProposalSerializer(serializers.Serializer):
    primary = serializers.IntegerField(source="primary.pk")
    primary_name = serializers.CharField(source="primary.name")
    backup = serializers.IntegerField(source="backup.pk")
    backup_name = serializers.CharField(source="backup.name")
    reason = serializers.CharField()


class PairAdoptionViewSet(viewsets.ViewSet):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: AdoptionProposalSerializer(many=True)},
                   summary="Pairs the probes found: unpaired primary + backup sharing a site name or shared IP")
    def list(self, request):
        proposals = adoption_proposals(user=request.user, organization=getattr(request, "organization", None))
        return Response(AdoptionProposalSerializer(proposals, many=True).data)

    @extend_schema(request=AdoptRequestSerializer, responses={201: PairSerializer},
                   summary="Adopt an existing pair: both appliances are read, nothing on them changes")
    def create(self, request):
        body = AdoptRequestSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        network = {key: data.pop(key) for key in list(data) if key not in ("first", "second", "site_hostname",
                                                                           "normal_primary")}
        pair = pair_adopt(actor=request.user, first=data["first"], second=data["second"],
                          site_hostname=data.get("site_hostname", ""), normal_primary=data.get("normal_primary"),
                          network=network)
        return Response(PairSerializer(pair, context={"request": request}).data, status=status.HTTP_201_CREATED)

    @extend_schema(request={"multipart/form-data": AdoptCsvRequestSerializer}, responses={202: AdoptCsvJobSerializer},
                   summary="Adopt many pairs from a CSV file: queued for a worker, all rows or none, errors per row")
    @action(detail=False, methods=["post"], parser_classes=[MultiPartParser, FormParser])
    def csv(self, request):
        body = AdoptCsvRequestSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        upload = body.validated_data["file"]
        try:
            job = pairs_adopt_csv_request(actor=request.user, organization=body.validated_data["organization"],
                                          data=upload.read(), filename=upload.name or "")
        except ValidationError as exc:
            raise serializers.ValidationError({"file": exc.messages}) from exc
        payload = AdoptCsvJobSerializer(job, context={"request": request}).data
        return Response(payload, status=status.HTTP_202_ACCEPTED, headers={"Location": payload["url"]})

    @extend_schema(responses={200: AdoptCsvJobSerializer}, summary="A queued CSV adoption: its progress and outcome")
    @action(detail=False, methods=["get"], url_path=r"csv/(?P<job_id>[0-9]+)")
    def csv_job(self, request, job_id=None):
        jobs = PairAdoptionImport.objects.for_user(request.user, role=Role.ADMIN).defer("content")
        job = get_object_or_404(jobs, pk=job_id)
        return Response(AdoptCsvJobSerializer(job, context={"request": request}).data)
