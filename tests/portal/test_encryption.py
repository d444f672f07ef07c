"""Secrets survive a key rotation: decryptable with old and new keys side by side, then with the new key alone."""

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from appliances.models import Appliance
from portal.encryption import _cipher
from tests.factories import ApplianceFactory


@pytest.mark.django_db
def test_rotation_re_encrypts_with_the_new_key(settings):
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    appliance = ApplianceFactory(client_secret="rotate-me-please")
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    _cipher.cache_clear()
    try:
        assert Appliance.objects.get(pk=appliance.pk).client_secret == "rotate-me-please"
        call_command("rotate_field_encryption", stdout=open("/dev/null", "w"))  # noqa: SIM115
        settings.FIELD_ENCRYPTION_KEYS = [new_key]
        _cipher.cache_clear()
        assert Appliance.objects.get(pk=appliance.pk).client_secret == "rotate-me-please"
        with connection.cursor() as cursor:
            cursor.execute("SELECT client_secret FROM appliances_appliance WHERE id = %s", [appliance.pk])
            stored = cursor.fetchone()[0]
        assert Fernet(new_key.encode()).decrypt(stored.encode()) == b"rotate-me-please"
    finally:
        _cipher.cache_clear()
