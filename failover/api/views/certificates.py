"""REST for a pair's certificates: parity of its two members, a check from the wire, replication primary ->
backup. The serializers of parity and replication are the certificates app's."""

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from certificates.api.serializers import ParitySerializer, ReplicateSerializer, ReplicationResultSerializer
from portal.api.viewsets import TenantReadOnlyViewSet
from portal.models import Role

from ...models import Pair
from ...selectors import pair_parities
from ...services.certificates import pair_certificate_replicate, pair_certificates_check


class PairCertificatesSerializer(serializers.ModelSerializer):
    parity = serializers.SerializerMethodField()

    class Meta:
        model = Pair
        fields = ["id", "organization", "site_hostname", "primary", "backup", "parity"]
        read_only_fields = fields

    @extend_schema_field(ParitySerializer)
    def get_parity(self, pair):
        return ParitySerializer(self.context["parity"][pair.pk]).data



class PairCertificatesViewSet(TenantReadOnlyViewSet):
    """Served-certificate parity per pair; ``check`` refreshes it from the wire, ``replicate`` copies the
    primary's certificate to the backup."""

    queryset = Pair.objects.all()
    serializer_class = PairCertificatesSerializer
    action_roles = {"check": Role.OPERATOR, "replicate": Role.OPERATOR}

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["parity"] = getattr(self, "_parity", {})
        return context

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        self._parity = pair_parities(page)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        pair = self.get_object()
        self._parity = pair_parities([pair])
        return Response(self.get_serializer(pair).data)

    @extend_schema(request=None, responses={200: ParitySerializer})
    @action(detail=True, methods=["post"])
    def check(self, request, pk=None):
        pair = self.get_object()
        return Response(ParitySerializer(pair_certificates_check(pair=pair).parity).data)

    @extend_schema(request=ReplicateSerializer, responses={200: ReplicationResultSerializer})
    @action(detail=True, methods=["post"])
    def replicate(self, request, pk=None):
        pair = self.get_object()
        serializer = ReplicateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        result = pair_certificate_replicate(
            actor=request.user, pair=pair, certificate=data.get("certificate"), data=data.get("content"),
            passphrase=data["passphrase"],
        )
        return Response(ReplicationResultSerializer({
            "via_appliance": result.via_appliance, "message": result.message, "target": result.target,
            "parity": result.check.parity if result.check else None,
        }).data)
