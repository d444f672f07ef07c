"""CSV import and export of appliances, so a fleet of hundreds can be onboarded (and later re-synced) at once.

Import is all or nothing: every row is validated first (every failing field of every row is reported with the
row number) and rows are written in one transaction only when all of them are valid. A row whose name is an
appliance of the organisation updates it (an empty client secret keeps the stored one), any other row creates
one, so an exported file re-imports unchanged. Large files run on a worker (``appliance_import_request``); the
request only checks the file's shape and its row count (``CSV_IMPORT_MAX_ROWS``).
"""

import copy
import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from portal.csvsafe import formula_safe, formula_unescape
from portal.models import Role
from portal.permissions import require_role
from portal.services.csv_jobs import csv_job_queue, csv_job_run

from .forms import ApplianceForm
from .models import AddressKind, Appliance, ApplianceImport
from .services import (
    APPLIANCE_EDITABLE_FIELDS,
    address_create,
    address_delete,
    address_update,
    appliance_create,
    appliance_update,
)

# One column per editable field, plus the addresses.
CSV_COLUMNS = [*APPLIANCE_EDITABLE_FIELDS, "addresses"]
REQUIRED_COLUMNS = {"name", "management_host"}
COLUMN_DEFAULTS = {
    name: Appliance._meta.get_field(name).default for name in ("management_port", "probe_interval", "probe_timeout")
}
# Exported files never carry secrets: the column is left empty.
SECRET_COLUMNS = {"client_secret", "probe_client_secret", "backup_password"}
RUN_IMPORT_TASK = "appliances.run_appliance_import"
# How often a running import writes its progress (rows).
PROGRESS_EVERY = 50


@dataclass
class CsvImportResult:
    created: list[Appliance] = field(default_factory=list)
    updated: list[Appliance] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def parse_addresses(text: str) -> list[dict]:
    """``192.0.2.5/24; shared:192.0.2.10/24; shared:192.0.2.11/24:disabled``. Every bad entry is reported."""
    addresses, errors = [], []
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
            errors.append(f"address “{raw.strip()}” needs a prefix length, e.g. 192.0.2.5/24")
            continue
        addresses.append({"address": address, "prefix_length": int(prefix), "kind": kind, "enabled": enabled})
    if errors:
        raise ValidationError(errors)
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


def read_csv_rows(data: bytes, *, required: set[str] = REQUIRED_COLUMNS, columns: list[str] = CSV_COLUMNS,
                  noun: str = "appliance") -> list[dict]:
    """The file's rows, after every check that needs no database: size, encoding, header, row count. Shared by
    every CSV import of the portal (``required``/``columns``: its header; ``noun``: what a row describes)."""
    if len(data) > settings.CSV_IMPORT_MAX_BYTES:
        raise ValidationError(f"The file is larger than {settings.CSV_IMPORT_MAX_BYTES // 1024} KiB.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError("The file is not UTF-8 text.") from exc
    if "\x00" in text:
        raise ValidationError("The file is not a CSV text file.")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        present = set(reader.fieldnames or [])
        missing = required - present
        if missing:
            raise ValidationError(f"The header misses the column(s): {', '.join(sorted(missing))}.")
        unknown = present - set(columns)
        if unknown:
            raise ValidationError(
                f"Unknown column(s): {', '.join(sorted(unknown))}. Expected: {', '.join(columns)}.")
        rows = []
        for row in reader:
            rows.append(row)
            if len(rows) > settings.CSV_IMPORT_MAX_ROWS:
                raise ValidationError(
                    f"The file has more than {settings.CSV_IMPORT_MAX_ROWS} rows: split it into several imports.")
    except csv.Error as exc:
        raise ValidationError(f"Malformed CSV: {exc}") from exc
    if not rows:
        raise ValidationError(f"The file has a header but no {noun} rows.")
    return rows


def _row_errors(form) -> list[str]:
    return [f"{name}: {message}" if name != "__all__" else message for name, messages in form.errors.items() for message in messages]


def _sync_addresses(*, actor, appliance: Appliance, addresses: list[dict]) -> None:
    """Make the appliance's addresses those of the file (an export lists them all)."""
    wanted = {item["address"]: item for item in addresses}
    for address in list(appliance.addresses.all()):
        item = wanted.pop(str(address.address), None)
        if item is None:
            address_delete(actor=actor, address=address)
        elif any(getattr(address, key) != value for key, value in item.items() if key != "address"):
            address_update(actor=actor, address=address, data=item)
    for item in wanted.values():
        address_create(actor=actor, appliance=appliance, **item)


def appliances_import_csv(*, actor, organization, data: bytes,
                          progress: Callable[[int], None] | None = None) -> CsvImportResult:
    """Validate every row, then (only when all are valid) create or update them in one transaction."""
    result = CsvImportResult()
    try:
        rows = read_csv_rows(data)
    except ValidationError as exc:
        result.errors.append(" ".join(exc.messages))
        return result
    names = {(row.get("name") or "").strip() for row in rows}
    existing = {a.name: a for a in Appliance.objects.filter(organization=organization, name__in=names)}

    valid = []
    seen_names, seen_guids = {}, {}
    for number, row in enumerate(rows, start=2):  # row 1 is the header
        if progress is not None and (number - 1) % PROGRESS_EVERY == 0:
            progress(number - 1)
        if None in row:
            result.errors.append(f"Row {number}: more values than columns.")
            continue
        values = {k: formula_unescape(v or "").strip() for k, v in row.items()}
        row_errors = []
        try:
            addresses = parse_addresses(values.pop("addresses", ""))
        except ValidationError as exc:
            row_errors.extend(exc.messages)
        # An empty or absent cell means the field's default (port 443, the default probe timings); an empty
        # secret on a known appliance keeps the stored one (exports never carry it).
        fields = {**COLUMN_DEFAULTS, **{k: v for k, v in values.items() if v}, "organization": organization.pk}
        instance = existing.get(values.get("name", ""))
        # The form gets a copy: validation writes into its instance, and the update must diff the stored values.
        form = ApplianceForm(data=fields, user=actor, instance=copy.copy(instance) if instance else None)
        form.fields["organization"].queryset = form.fields["organization"].queryset.filter(pk=organization.pk)
        if not form.is_valid():
            row_errors.extend(_row_errors(form))
        if row_errors:
            result.errors.extend(f"Row {number}: {error}" for error in row_errors)
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
        valid.append((number, instance, form.cleaned_data, addresses))
    if progress is not None:
        progress(len(rows))

    if result.errors:
        return result
    try:
        with transaction.atomic():
            for number, instance, cleaned, addresses in valid:
                cleaned = {k: v for k, v in cleaned.items() if k != "organization"}
                try:
                    if instance is None:
                        result.created.append(
                            appliance_create(actor=actor, organization=organization, addresses=addresses, **cleaned)
                        )
                    else:
                        appliance = appliance_update(actor=actor, appliance=instance, data=cleaned)
                        _sync_addresses(actor=actor, appliance=appliance, addresses=addresses)
                        result.updated.append(appliance)
                except ValidationError as exc:
                    messages = exc.message_dict if hasattr(exc, "error_dict") else {"row": exc.messages}
                    result.errors.extend(f"Row {number}: {k}: {' '.join(v)}" for k, v in messages.items())
            if result.errors:
                raise ValidationError("rollback")
    except ValidationError:
        result.created, result.updated = [], []
    return result


def appliance_import_request(*, actor, organization, data: bytes, filename: str = "") -> ApplianceImport:
    """Check the file's shape now (a clear message in the form), then queue the rows for a worker."""
    require_role(actor, organization, Role.ADMIN)
    rows = read_csv_rows(data)
    return csv_job_queue(model=ApplianceImport, actor=actor, organization=organization, data=data, rows=len(rows),
                         filename=filename, task=RUN_IMPORT_TASK, verb="csv import", noun="appliance")


def appliance_import_run(*, job: ApplianceImport) -> ApplianceImport:
    """The worker's part (``portal.services.csv_jobs``: claimed once, progress written as rows are checked)."""
    return csv_job_run(job=job, importer=appliances_import_csv, verb="csv import", noun="appliance")


def appliances_export_csv(appliances) -> str:
    out = io.StringIO()
    # CRLF (RFC 4180): the writer then quotes a cell holding a bare CR, which would otherwise split the row.
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for appliance in appliances:
        row = {column: getattr(appliance, column, "") for column in CSV_COLUMNS if column not in SECRET_COLUMNS}
        row["addresses"] = format_addresses(appliance)
        writer.writerow({column: formula_safe(value) for column, value in row.items()})
    return out.getvalue()
