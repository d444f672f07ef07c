"""API throttles: anonymous requests per client address, authenticated ones per user, at the rates of
``settings.API_THROTTLE_RATES`` (read on each request, so an operator's change applies without a code change).
Over the rate the API answers 429 with ``Retry-After``."""

from django.conf import settings
from rest_framework import throttling

from ..http import client_ip


class _SettingsRate:
    def get_rate(self):
        return settings.API_THROTTLE_RATES[self.scope]

    def get_ident(self, request):
        # One rule for "who is the client" behind proxies, shared with the sign-in lockout.
        return client_ip(request)


class AnonymousRateThrottle(_SettingsRate, throttling.AnonRateThrottle):
    pass


class UserRateThrottle(_SettingsRate, throttling.UserRateThrottle):
    pass
