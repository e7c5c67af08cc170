"""The claims' keyed hash is HMAC-SHA256 exactly: claims written before it was keyed by
hand still refuse the same values, and a key of any length is handled as RFC 2104 says."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from campledger.api.database.claims_mac import ClaimsMac

CLAIMS = [
    ("registration_number", "B0001-0001"),
    ("biometric_reference", "BIO-B0001-0001"),
    ("registration_number", "رقم-١٢٣"),
    ("registration_number", ""),
]


@pytest.mark.parametrize("key", [b"", b"k" * 32, bytes(range(64)), b"x" * 100])
def test_digests_are_the_standard_hmac_of_scope_and_value(key: bytes) -> None:
    expected = [
        hmac.new(key, scope.encode() + b"\x00" + value.encode(), hashlib.sha256).hexdigest()
        for scope, value in CLAIMS
    ]
    assert ClaimsMac(key).digests(CLAIMS) == expected


def test_the_scope_separates_one_value_claimed_twice() -> None:
    mac = ClaimsMac(b"k" * 32)
    one, other = mac.digests([("registration_number", "X1"), ("biometric_reference", "X1")])
    assert one != other
