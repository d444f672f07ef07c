"""REST representations. The private key is never serialised: only whether one is held."""

import base64
import binascii

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from appliances.models import Appliance
from portal.api.fields import TenantRelatedField
from portal.models import Role

from ..conf import max_upload_size
from ..crypto import ExportFormat
from ..models import Certificate, ServedCertificate
from ..selectors import certificate_warnings


def decode_content(content: str) -> bytes:
    """A certificate file sent in JSON: PEM as text, binary formats (PKCS#12, DER) as base64."""
    if "-----BEGIN " in content:
        return content.encode("utf-8")
    try:
        return base64.b64decode(content, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise serializers.ValidationError("Give PEM text or base64 of the file.") from exc


class WarningSerializer(serializers.Serializer):
    code = serializers.CharField()
    severity = serializers.CharField()
    message = serializers.CharField()


class ChainLinkSerializer(serializers.Serializer):
    subject = serializers.CharField()
    issuer = serializers.CharField()
    not_after = serializers.DateTimeField()
    fingerprint_sha256 = serializers.CharField()


class CertificateSerializer(serializers.ModelSerializer):
    appliance_name = serializers.CharField(source="appliance.name", read_only=True)
    has_private_key = serializers.BooleanField(read_only=True)
    portal_has_key = serializers.BooleanField(read_only=True)
    chain = serializers.SerializerMethodField()
    warnings = serializers.SerializerMethodField()

    class Meta:
        model = Certificate
        fields = [
            "id", "organization", "appliance", "appliance_name", "friendly_name", "subject", "common_name", "issuer",
            "dns_names", "ip_addresses", "not_before", "not_after", "serial", "fingerprint_sha256", "spki_sha256",
            "key_type", "key_size", "signature_hash", "is_self_signed", "is_lets_encrypt", "has_private_key",
            "portal_has_key", "appliance_has_key", "on_appliance", "appliance_certificate_id", "assigned_ip",
            "is_default", "is_factory", "source", "synced_at", "certificate_pem", "chain", "warnings",
            "created_at", "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(ChainLinkSerializer(many=True))
    def get_chain(self, certificate):
        return [
            {"subject": d.subject, "issuer": d.issuer, "not_after": d.not_after,
             "fingerprint_sha256": d.fingerprint_sha256}
            for d in certificate.chain_details
        ]

    @extend_schema_field(WarningSerializer(many=True))
    def get_warnings(self, certificate):
        warnings = getattr(certificate, "warnings", None)
        if warnings is None:
            warnings = certificate_warnings(certificate)
        return [{"code": w.code.value, "severity": w.severity.value, "message": w.message} for w in warnings]


class CertificateImportSerializer(serializers.Serializer):
    """Either ``file`` (multipart upload) or ``content`` (PEM text, or base64 of a PKCS#12/DER file)."""

    appliance = TenantRelatedField(queryset=Appliance.objects.all(), role=Role.ADMIN)
    file = serializers.FileField(required=False, write_only=True)
    # base64 of the largest accepted file, plus room for PEM line breaks.
    content = serializers.CharField(required=False, write_only=True, trim_whitespace=False,
                                    max_length=max_upload_size() * 3 // 2)
    passphrase = serializers.CharField(required=False, allow_blank=True, write_only=True, trim_whitespace=False,
                                       style={"input_type": "password"})
    friendly_name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    assigned_ip = serializers.IPAddressField(required=False, allow_null=True)
    make_default = serializers.BooleanField(required=False, default=False)
    install = serializers.BooleanField(required=False, default=False)

    def validate(self, attrs):
        upload, content = attrs.pop("file", None), attrs.pop("content", None)
        if bool(upload) == bool(content):
            raise serializers.ValidationError(
                {"file": "Send the certificate either as 'file' (multipart upload) or as 'content' (JSON)."}
            )
        if upload is not None:
            # Checked before reading, so an oversized upload is refused without loading it into memory.
            if upload.size > max_upload_size():
                raise serializers.ValidationError(
                    {"file": f"The file is larger than {max_upload_size() // 1024} KiB; a certificate bundle is far smaller."}
                )
            attrs["data"] = upload.read()
        else:
            try:
                attrs["data"] = decode_content(content)
            except serializers.ValidationError as exc:
                raise serializers.ValidationError({"content": exc.detail}) from exc
        return attrs


class CertificateExportSerializer(serializers.Serializer):
    format = serializers.ChoiceField(choices=[f.value for f in ExportFormat], default=ExportFormat.PKCS12.value)
    include_key = serializers.BooleanField(default=False)
    include_chain = serializers.BooleanField(default=True)
    passphrase = serializers.CharField(required=False, allow_blank=True, default="", write_only=True,
                                       trim_whitespace=False, style={"input_type": "password"})


class ServedCertificateSerializer(serializers.ModelSerializer):
    class Meta:
        model = ServedCertificate
        fields = [
            "id", "organization", "appliance", "server_name", "checked_at", "fingerprint_sha256", "spki_sha256",
            "subject", "issuer", "names", "not_after", "error", "in_inventory", "previous_fingerprint", "changed_at",
        ]
        read_only_fields = fields


class ParityCheckSerializer(serializers.Serializer):
    server_name = serializers.CharField()
    match = serializers.BooleanField(allow_null=True)
    primary_fingerprint = serializers.CharField(allow_null=True)
    backup_fingerprint = serializers.CharField(allow_null=True)
    reason = serializers.CharField()


class ParitySerializer(serializers.Serializer):
    match = serializers.BooleanField(allow_null=True)
    reason = serializers.CharField()
    primary_fingerprint = serializers.CharField(allow_null=True)
    backup_fingerprint = serializers.CharField(allow_null=True)
    checked_at = serializers.DateTimeField(allow_null=True)
    checks = ParityCheckSerializer(many=True)


class ReplicateSerializer(serializers.Serializer):
    certificate = TenantRelatedField(queryset=Certificate.objects.all(), role=Role.OPERATOR, required=False,
                                     allow_null=True)
    content = serializers.CharField(required=False, allow_blank=True, write_only=True, trim_whitespace=False,
                                    help_text="The primary's export (PEM text or base64 PKCS#12) when the portal "
                                              "does not hold the key.")
    passphrase = serializers.CharField(required=False, allow_blank=True, default="", write_only=True,
                                       trim_whitespace=False)

    def validate_content(self, content):
        return decode_content(content) if content else None


class ReplicationResultSerializer(serializers.Serializer):
    via_appliance = serializers.BooleanField()
    message = serializers.CharField()
    target = CertificateSerializer()
    parity = ParitySerializer(allow_null=True)


class InventorySyncResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    gone = serializers.IntegerField()
    skipped = serializers.ListField(child=serializers.CharField())
