"""Snapshots of the whole world as JSON documents, and restoring them all or nothing.

A snapshot holds every tenant (``Tenant.to_document``: account, clock, calls with their
pending engine step, rules, faults, random generators and journal) and the world's key
generator. Restoring checks the whole document while building a complete new set of tenants
(``Tenant.from_document``) and swaps it in only when everything held together, so a bad
snapshot changes nothing and is refused with a ``SettingError`` naming the field's path.
"""

from __future__ import annotations

import random
from typing import Any

from ..errors import SettingError
from .document import Node
from .snapshotcheck import check_keys, check_money
from .state import COUNT_MAX, read_rng, rng_state
from .tenant import Tenant
from .world import World

FORMAT = "mock-anveo-snapshot/1"


def tenant_to_dict(tenant: Tenant) -> dict[str, Any]:
    """Everything about one tenant, as JSON-ready data (``Tenant.to_document``)."""
    return tenant.to_document()


def snapshot(world: World) -> dict[str, Any]:
    """The whole world as JSON-ready data."""
    for tenant in world.tenants.values():
        tenant.sync()
    return {
        "format": FORMAT,
        "seed": world.settings.seed,
        "key_rng": rng_state(world.key_rng),
        "tenants": [t.to_document() for t in world.tenants.values()],
    }


def restore(world: World, doc: Any) -> int:
    """Replace the world's tenants with those of ``doc``; all or nothing. Returns the count.

    A document that does not hold together raises SettingError (``field`` is the path of the
    first bad field, such as ``tenants[0].calls[3].timeline``) and leaves the world as it was.
    """
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        found = doc.get("format") if isinstance(doc, dict) else type(doc).__name__
        raise SettingError(f"not a snapshot of format {FORMAT!r} (found {found!r})", "format")
    try:
        check_keys(doc)
        tenants, key_rng = _read(world, Node(doc, ""))
    except SettingError as exc:
        raise SettingError(f"snapshot is not valid: {exc.message}", exc.field) from None
    except (TypeError, ValueError, LookupError, ArithmeticError, AttributeError) as exc:
        # Not expected (every field is checked first); still a refusal, never a server error.
        raise SettingError(f"snapshot is not valid: {type(exc).__name__}: {exc}") from None
    for old in world.tenants.values():
        old.close()
    world.tenants = tenants
    world.key_rng = key_rng
    return len(tenants)


def _read(world: World, node: Node) -> tuple[dict[str, Tenant], random.Random]:
    node["seed"].whole(-COUNT_MAX, COUNT_MAX)  # informative: the world keeps its own seed
    key_rng = read_rng(node["key_rng"])
    tenants: dict[str, Tenant] = {}
    for item in node["tenants"].items(world.settings.max_tenants):
        tenant = Tenant.from_document(
            item.value, path=item.path, monotonic=world.monotonic, real=world.wallclock
        )
        check_money(item, tenant)
        userkey = tenant.account.userkey
        if userkey in tenants:
            raise SettingError(
                f"{item.path}.account.userkey {userkey!r} appears twice",
                f"{item.path}.account.userkey",
            )
        tenants[userkey] = tenant
    return tenants, key_rng
