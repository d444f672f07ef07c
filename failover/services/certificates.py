"""A pair's certificates, through the certificates app's comparison of two appliances (``Couple``): check what
both members serve (alerts name the pair), replicate the primary's certificate to the backup."""

from certificates.services import (
    CoupleCheck,
    ReplicationResult,
    couple_certificate_replicate,
    couple_certificates_check,
)

from ..selectors import pair_couple


def pair_certificates_check(*, pair, alert: bool = True) -> CoupleCheck:
    """Refresh both members' served certificates, compute parity, and alert on drift and expiry."""
    return couple_certificates_check(couple=pair_couple(pair, with_appliances=True), alert=alert)


def pair_certificate_replicate(*, actor, pair, certificate=None, data: bytes | None = None,
                               passphrase: str = "") -> ReplicationResult:
    """Copy the primary's certificate (with key, default choice and assignment) to the backup."""
    return couple_certificate_replicate(actor=actor, couple=pair_couple(pair, with_appliances=True),
                                        certificate=certificate, data=data, passphrase=passphrase)
