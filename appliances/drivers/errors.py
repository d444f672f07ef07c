"""Typed errors raised by the appliance driver.

Every failure an operator may see ends up as one of these classes, with a message that says which
appliance, which call and what went wrong, so the portal can show ``str(error)`` as is.
"""

from __future__ import annotations


class ApplianceError(Exception):
    """Base class: anything that went wrong talking to one appliance."""

    def __init__(self, message: str, *, address: str = "", action: str = "") -> None:
        self.address = address
        self.action = action
        self.detail = message
        super().__init__(message)

    def __reduce__(self):
        # Keep address/action when the error crosses a process boundary (e.g. pickled by a task queue).
        return (_rebuild, (type(self), self.detail, self.address, self.action))

    def __str__(self) -> str:
        where = " ".join(part for part in (self.address, self.action) if part)
        return f"{where}: {self.detail}" if where else self.detail


class ApplianceUnreachable(ApplianceError):
    """No usable connection: DNS failure, connection refused, reset or closed before an answer."""


class ApplianceTimeout(ApplianceUnreachable):
    """Connect or total timeout expired. A subclass of unreachable: callers usually treat both alike."""


class ApplianceTLSError(ApplianceError):
    """TLS failed: certificate not trusted, name mismatch, pin mismatch or handshake failure."""


class ApplianceAuthError(ApplianceError):
    """Bad client credentials, token refused, or the API account lacks the permission."""


class ApplianceProtocolError(ApplianceError):
    """The appliance answered something we cannot accept: malformed, oversized, wrong content type,
    unexpected HTTP status, missing elements, or hostile XML (DTD/entities)."""


class ApplianceRefused(ApplianceError):
    """The appliance understood the call and answered ``<error>`` (e.g. a role change it refused)."""


def _rebuild(cls: type[ApplianceError], detail: str, address: str, action: str) -> ApplianceError:
    return cls(detail, address=address, action=action)
