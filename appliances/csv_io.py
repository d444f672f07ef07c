"""CSV import and export of appliances, so a fleet of hundreds can be onboarded at once.

Import is all or nothing: every row is validated first (per-row errors are reported with the row number) and
rows are created in one transaction only when all of them are valid.
"""

import csv
import io
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from .forms import ApplianceForm
from .models import AddressKind, Appliance
from .services import APPLIANCE_EDITABLE_FIELDS, appliance_create

# One column per editable field, plus the addresses.
CSV_COLUMNS = [*APPLIANCE_EDITABLE_FIELDS, "addresses"]
REQUIRED_COLUMNS = {"name", "management_host"}
COLUMN_DEFAULTS = {
    name: Appliance._meta.get_field(name).default for name in ("management_port", "probe_interval", "probe_timeout")
}
# Exported files never carry secrets: the column is left empty.
SECRET_COLUMNS = {"client_secret"}


@dataclass
class CsvImportResult:
    created: list[Appliance] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def parse_addresses(text: str) -> list[dict]:
    """``192.0.2.5/24; shared:192.0.2.10/24; shared:192.0.2.11/24:disabled``"""
    addresses = []
    for raw in text.replace(",", ";").split(";"):
        item = raw.strip()
        if not item:
            continue
        kind = AddressKind.UNIQUE
        enabled = True
        if item.startswith("shared:"):
            kind, item = AddressKind.SHARED, item.removeprefix("shared:")
        if item.endswith(":disabled"):
            enabled, item = False, item.removesuffix(":disabled")
        address, _, prefix = item.partition("/")
        if not prefix.isdigit():
            raise ValidationError(f"address “{raw.strip()}” needs a prefix length, e.g. 192.0.2.5/24")
        addresses.append({"address": address, "prefix_length": int(prefix), "kind": kind, "enabled": enabled})
    return addresses


def format_addresses(appliance: Appliance) -> str:
    parts = []
    for address in appliance.addresses.all():
        text = f"{address.address}/{address.prefix_length}"
        if address.kind == AddressKind.SHARED:
            text = f"shared:{text}"
        if not address.enabled:
            text += ":disabled"
        parts.append(text)
    return "; ".join(parts)


def _read_rows(data: bytes) -> csv.DictReader:
    if len(data) > settings.CSV_IMPORT_MAX_BYTES:
        raise ValidationError(f"The file is larger than {settings.CSV_IMPORT_MAX_BYTES // 1024} KiB.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError("The file is not UTF-8 text.") from exc
    if "\x00" in text:
        raise ValidationError("The file is not a CSV text file.")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    columns = set(reader.fieldnames or [])
    missing = REQUIRED_COLUMNS - columns
    if missing:
        raise ValidationError(f"The header misses the column(s): {', '.join(sorted(missing))}.")
    unknown = columns - set(CSV_COLUMNS)
    if unknown:
        raise ValidationError(f"Unknown column(s): {', '.join(sorted(unknown))}. Expected: {', '.join(CSV_COLUMNS)}.")
    return reader


def _row_errors(form) -> list[str]:
    return [f"{name}: {message}" if name != "__all__" else message for name, messages in form.errors.items() for message in messages]


def appliances_import_csv(*, actor, organization, data: bytes) -> CsvImportResult:
    result = CsvImportResult()
    try:
        reader = _read_rows(data)
        rows = list(reader)
    except (ValidationError, csv.Error) as exc:
        result.errors.append(" ".join(exc.messages) if isinstance(exc, ValidationError) else f"Malformed CSV: {exc}")
        return result
    if not rows:
        result.errors.append("The file has a header but no appliance rows.")
        return result

    valid = []
    seen_names, seen_guids = {}, {}
    for number, row in enumerate(rows, start=2):  # row 1 is the header
        if None in row:
            result.errors.append(f"Row {number}: more values than columns.")
            continue
        values = {k: (v or "").strip() for k, v in row.items()}
        try:
            addresses = parse_addresses(values.pop("addresses", ""))
        except ValidationError as exc:
            result.errors.append(f"Row {number}: {' '.join(exc.messages)}")
            continue
        # An empty or absent cell means the field's default (port 443, the default probe timings).
        data = {**COLUMN_DEFAULTS, **{k: v for k, v in values.items() if v}, "organization": organization.pk}
        form = ApplianceForm(data=data, user=actor)
        form.fields["organization"].queryset = form.fields["organization"].queryset.filter(pk=organization.pk)
        if not form.is_valid():
            result.errors.extend(f"Row {number}: {error}" for error in _row_errors(form))
            continue
        name, guid = form.cleaned_data["name"], form.cleaned_data["appliance_guid"]
        if name in seen_names:
            result.errors.append(f"Row {number}: name “{name}” is also on row {seen_names[name]}.")
            continue
        if guid and guid in seen_guids:
            result.errors.append(f"Row {number}: appliance id {guid} is also on row {seen_guids[guid]}.")
            continue
        seen_names[name] = number
        if guid:
            seen_guids[guid] = number
        valid.append((number, form.cleaned_data, addresses))

    if result.errors:
        return result
    try:
        with transaction.atomic():
            for number, cleaned, addresses in valid:
                cleaned = {k: v for k, v in cleaned.items() if k != "organization"}
                try:
                    result.created.append(
                        appliance_create(actor=actor, organization=organization, addresses=addresses, **cleaned)
                    )
                except ValidationError as exc:
                    messages = exc.message_dict if hasattr(exc, "error_dict") else {"row": exc.messages}
                    result.errors.extend(f"Row {number}: {k}: {' '.join(v)}" for k, v in messages.items())
            if result.errors:
                raise ValidationError("rollback")
    except ValidationError:
        result.created = []
    return result


def appliances_export_csv(appliances) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for appliance in appliances:
        row = {column: getattr(appliance, column, "") for column in CSV_COLUMNS if column not in SECRET_COLUMNS}
        row["addresses"] = format_addresses(appliance)
        writer.writerow(row)
    return out.getvalue()
