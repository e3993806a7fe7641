"""One tenant: the Anveo actions (dial, status, cancel, SMS, balance) and its snapshot form.

Builds on ``Engine`` (calls), ``Notifier`` (outbox) and ``TenantState`` (account, clock, money,
journal). Pure. Randomness is seeded by (world seed, userkey); public methods sync first.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from ..errors import AnveoError, Code
from . import calldoc, scenarios, state
from .calls import Call, Phase, Reason, Status
from .clock import Clock
from .document import Node
from .engine import Engine
from .journal import Journal
from .outboxdoc import read_outbox
from .sms import SMS_RATE, Sms
from .tenantstate import no_real

_DEFAULT_FIRST, _DEFAULT_SECOND = scenarios.DEFAULT_FIRST, scenarios.DEFAULT_SECOND


class Tenant(Engine):
    """The simulated Anveo account behind one USERKEY: the API's actions on its state."""

    def _new_requestid(self) -> str:
        # sha1("{seed}:{userkey}:{counter}"): the digest of the constant prefix is kept and
        # copied, which saves formatting and hashing it again for every request.
        seed, userkey = self.seed, self.account.userkey
        prefix = self._id_prefix
        if prefix is None or prefix[0] != seed or prefix[1] != userkey:
            prefix = self._id_prefix = (
                seed,
                userkey,
                hashlib.sha1(f"{seed}:{userkey}:".encode(), usedforsecurity=False),
            )
        while True:
            self._id_counter += 1
            digest = prefix[2].copy()
            digest.update(str(self._id_counter).encode())
            rid = digest.hexdigest()
            if rid not in self.calls:
                return rid

    def _check_callerid(self, callerid: str) -> None:
        if callerid not in self.account.verified_callerids:
            text = f'CALLERID "{callerid}" is not a verified caller ID of this account'
            raise AnveoError(Code.UNVERIFIED_CALLERID, text)

    def dial_connect(
        self,
        first: str,
        second: str,
        *,
        callerid: str | None = None,
        max_minutes: int | None = None,
        delay: int = 0,
        memo: str | None = None,
        billingcode: str | None = None,
        test: bool = False,
    ) -> Call:
        """Accept a DIAL.CONNECT: ring ``first``, then ``second``, and bridge them."""
        self.sync()
        if callerid is not None:
            self._check_callerid(callerid)
        if not test:
            self._check_funds(2)
        call = Call(
            self._new_requestid(),
            "DIAL.CONNECT",
            first,
            callerid or second,
            second,
            callerid or first,
            self.clock.now(),
            delay,
            max_minutes,
            memo,
            billingcode,
            None,
            None,
            test,
        )
        self.calls[call.requestid] = call  # _accept, inlined: once per call
        if not test:
            if self.rules or "555" in first or "555" in second:
                self._plan(call)
            else:  # what _plan decides without rules for numbers that cannot be magic
                call.first_plan, call.second_plan = _DEFAULT_FIRST, _DEFAULT_SECOND
            self._schedule(call, call.created_at + delay * 60.0, "dial")
        return call

    def dial_callflow(
        self,
        number: str,
        *,
        callerid: str,
        callflow: str,
        variables: dict[str, str] | None = None,
        delay: int = 0,
        memo: str | None = None,
        billingcode: str | None = None,
        test: bool = False,
    ) -> Call:
        """Accept a DIAL.CALLFLOW: ring ``number`` and run the call flow when it answers."""
        self.sync()
        self._check_callerid(callerid)
        if callflow not in self.account.callflows:
            raise AnveoError(
                Code.UNKNOWN_CALLFLOW, f'CALLFLOW "{callflow}" is not a call flow of this account'
            )
        if not test:
            self._check_funds(1)
        call = Call(
            self._new_requestid(),
            "DIAL.CALLFLOW",
            number,
            callerid,
            None,
            None,
            self.clock.now(),
            delay_minutes=delay,
            memo=memo,
            billingcode=billingcode,
            callflow=callflow,
            variables=variables or None,
            test=test,
        )
        return self._accept(call)

    def _accept(self, call: Call) -> Call:
        self.calls[call.requestid] = call
        if not call.test:  # a TEST request is never dialled: it stays NONE
            self._plan(call)
            self._schedule(call, call.created_at + call.delay_minutes * 60.0, "dial")
        return call

    def find(self, requestid: str) -> Call:
        """The call with this REQUESTID, or UNKNOWN_REQUESTID (also for other tenants' ids)."""
        self.sync()
        call = self.calls.get(requestid.lower())
        if call is None:
            raise AnveoError(
                Code.UNKNOWN_REQUESTID, f'REQUESTID "{requestid}" is not a request of this account'
            )
        return call

    def status(self, requestid: str) -> Status:
        """DIAL.GETSTATUS: NONE, INIT, START or END."""
        return self.find(requestid).status

    def cancel(self, requestid: str) -> Call:
        """DIAL.CANCEL: drop a scheduled call or hang up a live one; both end in END."""
        call = self.find(requestid)
        if call.phase is Phase.ENDED:
            raise AnveoError(
                Code.ALREADY_ENDED,
                f'REQUESTID "{requestid}" has already ended '
                f"({call.reason.value if call.reason else 'ended'})",
            )
        held = call.reserved
        self._end(call, self.clock.now(), Reason.CANCELLED)
        if held > call.charge:  # money held for minutes that will not be talked now
            self._replan_starved()
        return call

    def callflow_result(self, requestid: str) -> str:
        """DIAL.CALLFLOW.GETRESULT: what the call flow produced, once the call ended."""
        call = self.find(requestid)
        if call.action != "DIAL.CALLFLOW":
            raise AnveoError(
                Code.NOT_A_CALLFLOW,
                f'REQUESTID "{requestid}" is a {call.action} request, not DIAL.CALLFLOW',
            )
        if call.phase is not Phase.ENDED or call.result is None:
            raise AnveoError(
                Code.RESULT_NOT_READY,
                f'the call flow of REQUESTID "{requestid}" has not finished '
                f"(status {call.status.value})",
            )
        return call.result

    def send_sms(self, sender: str, destination: str, message: str, parts: int) -> Sms:
        """Send an SMS through the v1 door: charged at once, ``SMS_RATE`` per part."""
        self.sync()
        fee = SMS_RATE * parts
        if self.available() < fee:  # money reserved by live calls is not there to spend
            parts_text = "1 part" if parts == 1 else f"{parts} parts"
            raise self._shortfall(f"{fee} USD ({parts_text} at {SMS_RATE} USD)")
        self.account.balance -= fee
        self.total_charged += fee
        sms = Sms(
            self._new_requestid(),
            sender,
            destination,
            message,
            parts=parts,
            fee=fee,
            sent_at=self.clock.now(),
        )
        self.sms.append(sms)
        self.notify_sms(sms)
        return sms

    def balance(self) -> Decimal:
        """ACCOUNT.GETBALANCE: the balance after every call ended so far."""
        self.sync()
        return self.account.balance

    # ---- snapshots: the parts' JSON forms and their checks live in sim/calldoc.py and
    # sim/state.py -----------------------------------------------------------------------
    def to_document(self) -> dict[str, Any]:
        """Everything about this tenant as JSON-ready data: one tenant of a snapshot, read
        back by ``from_document``."""
        return {
            "account": self.account.to_dict(),
            "initial_balance": str(self.initial_balance),
            "total_charged": str(self.total_charged),
            "charges_by_billingcode": {k: str(v) for k, v in self.charges_by_billingcode.items()},
            "clock": {"now": self.clock.now(), "rate": self.clock.rate},
            "seed": self.seed,
            "id_counter": self._id_counter,
            "rng": state.rng_state(self.rng),
            "fault_rng": state.rng_state(self.fault_rng),
            "rules": [r.to_dict() for r in self.rules],
            "faults": [f.to_dict() for f in self.faults],
            "next_rule_id": self.next_rule_id,
            "origin": self.origin,
            "sms": [
                [s.smsid, s.sender, s.destination, s.message, s.parts, str(s.fee), s.sent_at]
                for s in self.sms
            ],
            "calls": [calldoc.call_document(c) for c in self.calls.values()],
            "ended_order": list(self._ended),
            "ended_limit": self.ended_limit,
            "calls_dropped": self.calls_dropped,
            "journal": self.journal.to_document(),
            "outbox": self.outbox.to_document(),
        }

    @classmethod
    def from_document(
        cls,
        doc: Any,
        *,
        path: str = "tenant",
        monotonic: Callable[[], float] = no_real,
        real: Callable[[], float] = no_real,
    ) -> Tenant:
        """The tenant ``to_document`` wrote, checked whole: anything that does not hold
        together raises a SettingError naming the field's path (under ``path``).
        ``monotonic`` drives a running clock; ``real`` stamps the journal."""
        node = Node(doc, path)
        clock = node["clock"]
        now = clock["now"].moment()
        tenant = cls(
            state.read_account(node["account"]),
            seed=node["seed"].whole(-state.COUNT_MAX, state.COUNT_MAX),
            clock=Clock(now, rate=clock["rate"].real(0, 1e6), real=monotonic),
            real=real,
            ended_limit=node["ended_limit"].whole(1, state.LIMIT_MAX),
        )
        tenant.journal = Journal.from_document(node["journal"].value, f"{path}.journal")
        tenant.initial_balance = node["initial_balance"].money()
        tenant.total_charged = node["total_charged"].money()
        tenant.charges_by_billingcode = state.read_charges(node["charges_by_billingcode"])
        tenant._id_counter = node["id_counter"].whole(0, state.COUNT_MAX)
        tenant.rng = state.read_rng(node["rng"])
        tenant.fault_rng = state.read_rng(node["fault_rng"])
        tenant.rules = state.read_rules(node["rules"])
        tenant.faults = state.read_faults(node["faults"])
        tenant.next_rule_id = node["next_rule_id"].whole(1, state.COUNT_MAX)
        tenant.origin = state.read_origin(node.get("origin"), tenant.account.userkey)
        for item in node["sms"].items(tenant.ended_limit):
            smsid, sender, destination, message, parts, fee, sent_at = state.read_sms(item, now)
            tenant.sms.append(
                Sms(smsid, sender, destination, message, parts=parts, fee=fee, sent_at=sent_at)
            )
        pending: list[tuple[float, int, str, Call]] = []
        for item in node["calls"].items():
            call, step = calldoc.read_call(item, now)
            if call.requestid in tenant.calls:
                raise item["requestid"].fail("unique among the tenant's calls")
            tenant.calls[call.requestid] = call
            tenant.committed += call.reserved  # what live calls hold: see _afford
            if step is not None:
                pending.append((*step, call))
        # Re-queued in the original (time, sequence) order, so ties fire as they would have.
        pending.sort(key=lambda p: (p[0], p[1]))
        for when, _, step_name, call in pending:
            tenant._schedule(call, when, step_name)
        tenant._ended = state.read_ended_order(node["ended_order"], tenant.calls)
        tenant.calls_dropped = node["calls_dropped"].whole(0, state.COUNT_MAX)
        tenant.outbox = read_outbox(node.get("outbox"), tenant.outbox)
        return tenant
