"""sim.setup: tenants built and changed from JSON documents, without HTTP."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mock_anveo.errors import SettingError
from mock_anveo.sim import setup
from mock_anveo.sim.accounts import DEFAULT_CALLFLOW, DOCS_CALLERID
from mock_anveo.sim.world import World


def test_a_new_tenant_works_with_the_documentation_examples() -> None:
    tenant = setup.build_tenant(World(), {"userkey": "k"})
    assert DOCS_CALLERID in tenant.account.verified_callerids
    assert DEFAULT_CALLFLOW in tenant.account.callflows
    assert tenant.origin == {"userkey": "k"}


def test_rules_at_creation_are_numbered_scenarios_first() -> None:
    tenant = setup.build_tenant(
        World(),
        {
            "userkey": "k",
            "scenarios": [{"match": "1"}, {"match": "2", "id": "zz"}],
            "faults": [{"kind": "html"}],
        },
    )
    assert [r.id for r in tenant.rules] == ["s1", "s2"]
    assert [f.id for f in tenant.faults] == ["f3"]
    assert setup.add_rule(tenant, "fault", {"kind": "reset"}).id == "f4"
    assert setup.add_rule(tenant, "scenario", {"match": "3", "rule": "scenario"}).id == "s5"


def test_a_taken_key_or_a_full_server_is_a_conflict() -> None:
    world = World()
    setup.build_tenant(world, {"userkey": "k"})
    with pytest.raises(setup.Conflict, match="exists"):
        setup.build_tenant(world, {"userkey": "k"})
    world.settings.max_tenants = len(world.tenants)
    with pytest.raises(setup.Conflict, match="at most"):
        setup.build_tenant(world, {})


def test_a_bad_document_adds_nothing() -> None:
    world = World()
    before = set(world.tenants)
    with pytest.raises(SettingError) as refused:
        setup.build_tenant(world, {"userkey": "k", "faults": [{"kind": "boom"}]})
    assert refused.value.field == "kind"
    assert set(world.tenants) == before


def test_a_new_balance_is_money_paid_in() -> None:
    tenant = setup.build_tenant(World(), {"userkey": "k", "balance": "10"})
    tenant.total_charged = Decimal("3")
    tenant.account.balance = Decimal("7")
    setup.patch_tenant(tenant, {"balance": "50"}, lambda: 0.0)
    assert tenant.initial_balance - tenant.total_charged == tenant.account.balance


@given(
    st.dictionaries(
        st.sampled_from(["balance", "email", "verified_callerids", "clock_rate", "start", "other"]),
        st.one_of(
            st.none(),
            st.booleans(),
            st.integers(-5, 5),
            st.floats(allow_nan=True),
            st.text(max_size=5),
            st.lists(st.integers(), max_size=2),
        ),
        min_size=1,
    )
)
def test_a_refused_patch_changes_nothing(doc: dict[str, Any]) -> None:
    tenant = setup.build_tenant(World(), {"userkey": "k"})
    before = (tenant.account.to_dict(), tenant.clock.rate, tenant.initial_balance)
    try:
        setup.patch_tenant(tenant, doc, lambda: 0.0)
    except SettingError as refused:
        assert refused.field in set(doc) | {None}
        assert (tenant.account.to_dict(), tenant.clock.rate, tenant.initial_balance) == before


def test_rebuild_gives_the_tenant_back_as_created() -> None:
    world = World()
    tenant = setup.build_tenant(world, {"userkey": "k", "scenarios": [{"match": "1"}]})
    setup.add_rule(tenant, "fault", {"kind": "html"})
    fresh = setup.rebuild(world, "k")
    assert fresh is world.tenants["k"] and fresh is not tenant
    assert [r.id for r in fresh.rules] == ["s1"] and fresh.faults == []
    with pytest.raises(setup.Missing):
        setup.rebuild(world, "nobody")


def test_removing_an_unknown_rule_is_missing() -> None:
    tenant = setup.build_tenant(World(), {"userkey": "k"})
    with pytest.raises(setup.Missing, match="no fault 'f9'"):
        setup.remove_rule(tenant, "fault", "f9")
