"""Each warning is raised in its situation and stays silent for a healthy certificate."""

from datetime import timedelta

import pytest

from certificates.crypto import Severity, WarningCode, evaluate, parse_certificate, parse_pem
from certificates.crypto.generate import (
    make_ca,
    make_certificate,
    make_expired,
    make_leaf,
    make_lets_encrypt_chain,
    make_self_signed,
    new_key,
)
from tests.certificates.crypto.helpers import APPLIANCE, NOW, SITE


@pytest.fixture(scope="module")
def context(intermediate, root):
    return {"chain": [intermediate.certificate, root.certificate], "site_hostname": SITE,
            "appliance_hostname": APPLIANCE, "now": NOW}


def codes(details, context, **overrides):
    return {w.code for w in evaluate(details, **{**context, **overrides})}


def details_of(issued):
    return parse_certificate(issued.certificate)


def test_healthy_certificate_has_no_warning(leaf, context):
    assert evaluate(details_of(leaf), **context, in_failover_pair=True, is_default=True) == []


def test_chain_may_be_given_as_details(leaf, intermediate, root, context):
    chain = [details_of(intermediate), details_of(root)]
    assert codes(details_of(leaf), context, chain=chain) == set()


def test_expired(intermediate, context):
    warnings = evaluate(details_of(make_expired(intermediate, SITE, now=NOW)), **context)
    assert [(w.code, w.severity) for w in warnings] == [(WarningCode.EXPIRED, Severity.ERROR)]
    assert "expired on" in warnings[0].message


def test_expiring_within_threshold_only(intermediate, context):
    soon = details_of(make_leaf(intermediate, SITE, now=NOW, valid_from=timedelta(days=-60),
                                valid_for=timedelta(days=80)))  # 20 days left
    assert codes(soon, context) == {WarningCode.EXPIRING}
    assert codes(soon, context, expiry_threshold_days=10) == set()
    message = evaluate(soon, **context)[0].message
    assert "in 20 days" in message


def test_not_yet_valid(intermediate, context):
    future = details_of(make_leaf(intermediate, SITE, now=NOW, valid_from=timedelta(days=2)))
    assert codes(future, context) == {WarningCode.NOT_YET_VALID}


def test_self_signed(context):
    d = details_of(make_self_signed(SITE, now=NOW))
    assert codes(d, context, chain=[]) == {WarningCode.SELF_SIGNED}  # and not incomplete_chain


def test_no_san(intermediate, context):
    d = details_of(make_leaf(intermediate, SITE, dns_names=[], now=NOW))
    # The CN still matches, so only the missing SANs are reported.
    assert codes(d, context) == {WarningCode.NO_SAN}


def test_name_mismatch(intermediate, context):
    d = details_of(make_leaf(intermediate, "other.example.net", now=NOW))
    warnings = evaluate(d, **context)
    assert [w.code for w in warnings] == [WarningCode.NAME_MISMATCH]
    assert SITE in warnings[0].message and "other.example.net" in warnings[0].message


def test_name_matches_either_hostname_or_a_wildcard(intermediate, context):
    only_appliance = details_of(make_leaf(intermediate, APPLIANCE, now=NOW))
    assert codes(only_appliance, context) == set()
    wildcard = details_of(make_leaf(intermediate, "*.example.com", now=NOW))
    assert codes(wildcard, context) == set()
    too_deep = details_of(make_leaf(intermediate, "*.com", now=NOW))
    assert codes(too_deep, context) == {WarningCode.NAME_MISMATCH}


def test_name_check_skipped_without_hostnames(intermediate, context):
    d = details_of(make_leaf(intermediate, "other.example.net", now=NOW))
    assert codes(d, context, site_hostname=None, appliance_hostname="") == set()


@pytest.mark.parametrize(("kind", "size", "weak"), [("rsa", 1024, True), ("rsa", 2048, False),
                                                    ("ec", 192, True), ("ec", 256, False),
                                                    ("ed25519", None, False)])
def test_weak_key(intermediate, context, kind, size, weak):
    d = details_of(make_leaf(intermediate, SITE, key=new_key(kind, size), now=NOW))
    assert (WarningCode.WEAK_KEY in codes(d, context)) is weak


def test_weak_sha1_signature(sha1_pem, context):
    warnings = evaluate(parse_pem(sha1_pem), **context)
    weak = [w for w in warnings if w.code == WarningCode.WEAK_KEY]
    assert len(weak) == 1 and "SHA1 signature" in weak[0].message


def test_incomplete_chain(leaf, intermediate, root, context):
    d = details_of(leaf)
    assert codes(d, context, chain=[]) == {WarningCode.INCOMPLETE_CHAIN}
    assert codes(d, context, chain=[intermediate.certificate]) == {WarningCode.INCOMPLETE_CHAIN}
    assert codes(d, context, chain=[root.certificate]) == {WarningCode.INCOMPLETE_CHAIN}  # gap in the middle
    message = evaluate(d, **{**context, "chain": [intermediate.certificate]})[0].message
    assert "Test Root CA" in message


def test_chain_with_a_forged_issuer_is_incomplete(leaf, root, context):
    # Same name as the real issuing CA, different key: signatures must be checked, not names.
    forged = make_ca("Test Issuing CA", issuer=root, now=NOW)
    assert codes(details_of(leaf), context, chain=[forged.certificate, root.certificate]) == {
        WarningCode.INCOMPLETE_CHAIN
    }


def test_lets_encrypt_only_in_a_failover_pair(context):
    le_root, r11 = make_lets_encrypt_chain(NOW)
    d = details_of(make_leaf(r11, SITE, now=NOW, valid_for=timedelta(days=90)))
    ctx = {**context, "chain": [r11.certificate, le_root.certificate]}
    assert codes(d, ctx, in_failover_pair=True) == {WarningCode.LETS_ENCRYPT_IN_PAIR}
    assert codes(d, ctx, in_failover_pair=False) == set()


def test_default_self_signed(context):
    d = details_of(make_self_signed(SITE, now=NOW))
    assert WarningCode.DEFAULT_SELF_SIGNED in codes(d, context, is_default=True)
    assert WarningCode.DEFAULT_SELF_SIGNED not in codes(d, context, is_default=False)


def test_default_factory(context, leaf):
    factory = details_of(make_certificate("appliance.local", dns_names=["appliance.local"], now=NOW))
    found = codes(factory, context, is_default=True, is_factory=True)
    # The more specific warning replaces default_self_signed for the factory certificate.
    assert WarningCode.DEFAULT_FACTORY in found and WarningCode.DEFAULT_SELF_SIGNED not in found
    assert WarningCode.DEFAULT_FACTORY not in codes(factory, context, is_factory=True)


def test_naive_now_is_refused(leaf, context):
    with pytest.raises(ValueError, match="timezone-aware"):
        evaluate(details_of(leaf), **{**context, "now": NOW.replace(tzinfo=None)})
