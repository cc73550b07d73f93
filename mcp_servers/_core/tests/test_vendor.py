"""The vendor-client base: one error boundary that applies a vendor's rules, and closing."""

from __future__ import annotations

import pytest

from angie_mcp_core.errors import InvalidArgumentError, UpstreamError, UpstreamTimeoutError
from angie_mcp_core.vendor import Rule, VendorClient, translated


class VendorTimeout(TimeoutError):
    pass


RULES: list[Rule] = [
    (VendorTimeout, lambda _: UpstreamTimeoutError("the lamp", 2)),
    ((OSError, ValueError), lambda err: UpstreamError("the lamp", f"broke ({err})")),
    (RuntimeError, lambda err: UpstreamError("the lamp", "moved") if "moved" in str(err) else None),
]


def test_the_first_matching_rule_translates_from_the_original() -> None:
    with pytest.raises(UpstreamTimeoutError) as caught, translated(RULES):
        raise VendorTimeout
    assert isinstance(caught.value.__cause__, VendorTimeout)


def test_a_rule_may_name_several_exception_types() -> None:
    with pytest.raises(UpstreamError, match=r"broke \(bad\)"), translated(RULES):
        raise ValueError("bad")


def test_a_rule_that_declines_lets_the_exception_through() -> None:
    with pytest.raises(RuntimeError, match="other"), translated(RULES):
        raise RuntimeError("other")
    with pytest.raises(UpstreamError, match="moved"), translated(RULES):
        raise RuntimeError("moved")


def test_the_kits_errors_and_unknown_exceptions_pass_unchanged() -> None:
    with pytest.raises(InvalidArgumentError), translated(RULES):
        raise InvalidArgumentError("no such lamp")
    with pytest.raises(KeyError), translated(RULES):
        raise KeyError("x")


def test_a_vendor_client_is_closed_when_its_block_ends() -> None:
    closed: list[bool] = []

    class Lamp(VendorClient):
        def close(self) -> None:
            closed.append(True)

    with Lamp() as lamp:
        assert isinstance(lamp, Lamp)
    assert closed == [True]
