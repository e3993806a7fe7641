"""A pinned story: seeded random traffic through the engine, fingerprinted.

The engine is written for speed (inlined steps, a bucketed scheduler, a flat timeline), so a
refactoring could change behaviour without any single-purpose test noticing. These stories mix
dials, call flows, cancels, scenario rules (exact, weighted, per leg), tight funds, three
rates, MAXCALLDURATION and clock jumps, and fingerprint every control-API view, the snapshot
(journal included) and each refusal. The fingerprint was taken from the engine as it was
before any speed work, and stayed identical through it. It changed once on purpose, with
three behaviour changes (each alone changes it; emulating the old behaviour of all three gives
the old value back): a call's legs are planned when the request is accepted, not as each
rings; a party with a talk time of its own (magic numbers 03, 04, 30-99, rules with ``talk``)
ends the call at it even when the other party is ordinary; a plan's JSON in the snapshot
carries ``own_talk``. If a change alters it on purpose, say so in the commit and take the new
value from the assertion message.
"""

from __future__ import annotations

import hashlib
import json
import random
from decimal import Decimal

from mock_anveo.errors import AnveoError
from mock_anveo.http.views import call_view, clock_view, tenant_view
from mock_anveo.sim.accounts import DEFAULT_CALLFLOW, DOCS_CALLERID, Account
from mock_anveo.sim.scenarios import rule_from_dict
from mock_anveo.sim.snapshot import tenant_to_dict
from mock_anveo.sim.tenant import Tenant

NUMBERS = [
    "12157010680",
    "12125551234",
    "12125550100",
    "12125550101",
    "12125550102",
    "12125550104",
    "12125550115",
    "12125550161",
    "12125550133",
]
# Changed by issue 12 only by new fields (account notification_url and numbers, the outbox):
# with them stripped the old fingerprint a5fb690e... is reproduced exactly. Changed again by
# the clock view's new pending_deliveries field (always 0 here: no notification URL) and
# because a rule's JSON leaves out an empty ``sequence`` (weighted rules); each alone was
# checked to reproduce fdbad35c... when undone.
# Changed again only by the journal entries' new ``request_base64`` field (null throughout
# these stories): with it stripped, the previous b6f847fc... is reproduced exactly.
FINGERPRINT = "73ce4b2e203ab57e87e2e4320133929670a6bd06f7f9dc9aca7bc9f1b9ba18c4"


def story(seed: int, steps: int = 200) -> list[str]:
    rng = random.Random(seed)
    account = Account(
        "k" * 40,
        verified_callerids={DOCS_CALLERID},
        callflows={DEFAULT_CALLFLOW},
        balance=Decimal(rng.choice(["0.60", "5", "100.00"])),
        rate_per_minute=Decimal(rng.choice(["0.01", "0.013", "1"])),
    )
    tenant = Tenant(account, seed=seed)
    out: list[str] = []
    rids: list[str] = []

    def views() -> str:
        return json.dumps(
            [
                tenant_view(tenant),
                clock_view(tenant),
                [call_view(c) for c in tenant.calls.values()],
            ],
            default=str,
            sort_keys=True,
        )

    for step in range(steps):
        k = rng.random()
        try:
            if k < 0.45:
                rids.append(
                    tenant.dial_connect(
                        rng.choice(NUMBERS),
                        rng.choice(NUMBERS),
                        delay=rng.choice([0, 0, 1, 5, 60]),
                        max_minutes=rng.choice([None, 1, 3]),
                        billingcode=rng.choice([None, "a"]),
                        test=rng.random() < 0.05,
                    ).requestid
                )
            elif k < 0.5:
                rids.append(
                    tenant.dial_callflow(
                        rng.choice(NUMBERS),
                        callerid=DOCS_CALLERID,
                        callflow=DEFAULT_CALLFLOW,
                        delay=rng.choice([0, 2]),
                    ).requestid
                )
            elif k < 0.58 and rids:
                tenant.cancel(rng.choice(rids))
            elif k < 0.62:
                tenant.rules.append(
                    rule_from_dict(
                        {
                            "match": rng.choice(NUMBERS),
                            "outcome": rng.choice(["busy", "answer", "no-answer"]),
                            "talk": rng.choice([5, 100, 700]),
                            "times": 2,
                            "leg": rng.choice([None, "first", "second"]),
                        },
                        f"r{step}",
                    )
                )
            elif k < 0.64:
                tenant.rules.append(
                    rule_from_dict(
                        {"match": "*", "weights": {"answer": 3, "busy": 1}, "times": 3}, f"w{step}"
                    )
                )
            else:
                tenant.advance(rng.choice([0.5, 3, 4, 6, 10, 59.9, 60, 61, 300, 3600]))
        except AnveoError as error:
            out.append(str(error.code))
        if step % 50 == 0:
            out.append(views())
    tenant.run_until_idle()
    out.append(json.dumps(tenant_to_dict(tenant), default=str, sort_keys=True))
    out.append(views())
    return out


def test_seeded_stories_keep_their_fingerprint() -> None:
    text = "\n".join(line for seed in range(12) for line in story(seed))
    digest = hashlib.sha256(text.encode()).hexdigest()
    assert digest == FINGERPRINT, f"the engine's stories changed: fingerprint {digest}"


def test_a_story_is_the_same_twice() -> None:
    assert story(3) == story(3)
