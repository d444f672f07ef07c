"""OAuth2 client-credentials accounts of one appliance: 3600 s bearer tokens, 30 live per account."""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

TOKEN_LIFETIME = 3600
TOKEN_CAP = 30


@dataclass
class Account:
    client_id: str
    client_secret: str
    perm_command: str
    perm_backup: bool
    # token -> expiry (epoch seconds), oldest first so the cap can evict in issue order.
    tokens: OrderedDict[str, float] = field(default_factory=OrderedDict)

    def prune(self, now: float) -> None:
        for token in [t for t, expiry in self.tokens.items() if expiry <= now]:
            del self.tokens[token]


class Accounts:
    def __init__(self, specs: list[dict[str, Any]]) -> None:
        self.by_id = {
            s["client_id"]: Account(s["client_id"], s["client_secret"], s.get("perm_command", "full_access"),
                                    bool(s.get("perm_backup", False)))
            for s in specs
        }
        self._token_owner: dict[str, Account] = {}

    def authenticate_basic(self, header: str | None) -> Account | None:
        if not header or not header.lower().startswith("basic "):
            return None
        try:
            client_id, _, secret = base64.b64decode(header[6:].strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        account = self.by_id.get(client_id)
        if account is None or not hmac.compare_digest(account.client_secret.encode(), secret.encode()):
            return None
        return account

    def issue(self, account: Account) -> str:
        now = time.time()
        account.prune(now)
        while len(account.tokens) >= TOKEN_CAP:
            # The vendor silently invalidates the oldest token when a 31st is issued.
            oldest, _ = account.tokens.popitem(last=False)
            self._token_owner.pop(oldest, None)
        token = secrets.token_urlsafe(32)
        account.tokens[token] = now + TOKEN_LIFETIME
        self._token_owner[token] = account
        return token

    def bearer(self, header: str | None) -> Account | None:
        if not header or not header.lower().startswith("bearer "):
            return None
        token = header[7:].strip()
        account = self._token_owner.get(token)
        if account is None:
            return None
        if account.tokens.get(token, 0) <= time.time():
            account.tokens.pop(token, None)
            self._token_owner.pop(token, None)
            return None
        return account

    def expire_all(self) -> None:
        for account in self.by_id.values():
            account.tokens.clear()
        self._token_owner.clear()

    def describe(self) -> list[dict[str, Any]]:
        now = time.time()
        out = []
        for account in self.by_id.values():
            account.prune(now)
            out.append({"client_id": account.client_id, "perm_command": account.perm_command,
                        "perm_backup": account.perm_backup, "live_tokens": len(account.tokens)})
        return out
