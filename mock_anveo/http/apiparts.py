"""The shared pieces of the OpenAPI document: response helpers and the component schemas."""

from __future__ import annotations

from typing import Any

from ..sim import faults


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def reply(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def body(schema: dict[str, Any], required: bool = True) -> dict[str, Any]:
    return {"required": required, "content": {"application/json": {"schema": schema}}}


ERR = {"400": reply(ref("Error"), "Bad request"), "404": reply(ref("Error"), "Not found")}
CONFLICT = {"409": reply(ref("Error"), "Conflict")}
NO_CONTENT = {"204": {"description": "Done"}, **ERR}
USERKEY = {
    "name": "userkey",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "minLength": 1, "maxLength": 64},
}
OBJ: dict[str, Any] = {"type": "object"}

#: Where the mock calls the customer's app back (see apinotify.CALLBACKS).
_NOTIFY: dict[str, Any] = {
    "notification_url": {"type": "string", "nullable": True},
    "numbers": {
        "type": "array",
        "items": {
            "type": "object",
            "required": ["number"],
            "properties": {"number": {"type": "string"}, "sms_url": {"type": "string"}},
        },
    },
}

_MONEY: dict[str, Any] = {"oneOf": [{"type": "string"}, {"type": "number"}]}
_STRINGS: dict[str, Any] = {"type": "array", "items": {"type": "string"}}
#: The account's fields, which a tenant is created with and PATCHed with alike.
_ACCOUNT: dict[str, Any] = {
    "email": {"type": "string", "maxLength": 254},
    "secure_phrase": {"type": "string", "nullable": True, "maxLength": 256},
    "require_signature": {"type": "boolean"},
    "balance": _MONEY,
    "rate_per_minute": _MONEY,
    "verified_callerids": _STRINGS,
    "callflows": _STRINGS,
    **_NOTIFY,
}
_CLOCK_RATE: dict[str, Any] = {"type": "number", "minimum": 0, "maximum": 1000000}

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {"type": "string"},
            "field": {"type": "string", "nullable": True},
            # only in the 409 of an advance that did not reach idle
            "pending_events": {"type": "integer"},
            "next_event_at": {"type": "string", "format": "date-time"},
            "now": {"type": "string", "format": "date-time"},
        },
    },
    "TenantIn": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "userkey": {"type": "string", "minLength": 1, "maxLength": 64},
            **_ACCOUNT,
            "start": {"type": "string", "format": "date-time"},
            "clock_rate": _CLOCK_RATE,
            "scenarios": {"type": "array", "items": ref("Scenario")},
            "faults": {"type": "array", "items": ref("Fault")},
        },
    },
    "TenantPatch": {
        "type": "object",
        "additionalProperties": False,
        "properties": {**_ACCOUNT, "clock_rate": _CLOCK_RATE},
    },
    "Tenant": {
        "type": "object",
        "properties": {
            "userkey": {"type": "string"},
            "balance": {"type": "string"},
            "clock": ref("Clock"),
            "calls": {"type": "integer"},
        },
    },
    "Clock": {
        "type": "object",
        "properties": {
            "now": {"type": "string", "format": "date-time"},
            "rate": {"type": "number"},
            "pending_events": {"type": "integer"},
            "pending_deliveries": {"type": "integer"},
            "next_event_at": {"type": "string", "nullable": True},
        },
    },
    "Advance": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "seconds": {"type": "number", "minimum": 0, "maximum": 31622400},
            "to": {"type": "string", "format": "date-time"},
            "until_idle": {"type": "boolean"},
            "max_seconds": {"type": "number", "minimum": 0, "maximum": 31622400},
        },
    },
    "Call": {
        "type": "object",
        "properties": {
            "requestid": {"type": "string"},
            "action": {"type": "string"},
            "status": {"type": "string", "enum": ["NONE", "INIT", "START", "END"]},
            "reason": {"type": "string", "nullable": True},
            "charge": {"type": "string"},
            "legs": {"type": "array", "items": OBJ},
            "timeline": {"type": "array", "items": OBJ},
        },
    },
    "Leg": {
        "type": "object",
        "properties": {
            "outcome": {"type": "string", "enum": ["answer", "busy", "no-answer", "fail"]},
            "ring": {"type": "number", "minimum": 0, "maximum": 86400},
            "talk": {"type": "number", "minimum": 0, "maximum": 86400},
        },
    },
    "Scenario": {
        "type": "object",
        "properties": {
            "id": {"type": "string", "description": "given by the server; ignored on input"},
            "rule": {"type": "string", "enum": ["scenario"]},
            "match": {"type": "string"},
            "action": {"type": "string", "enum": ["DIAL.CONNECT", "DIAL.CALLFLOW"]},
            "leg": {"type": "string", "enum": ["first", "second"]},
            "outcome": {"type": "string"},
            "ring": {"type": "number"},
            "talk": {"type": "number"},
            "sequence": {"type": "array", "items": ref("Leg")},
            "weights": {"type": "object", "additionalProperties": {"type": "number"}},
            "times": {"type": "integer", "minimum": 1},
            "result": {"type": "string"},
        },
    },
    "Fault": {
        "type": "object",
        "required": ["kind"],
        "properties": {
            "id": {"type": "string", "description": "given by the server; ignored on input"},
            "rule": {"type": "string", "enum": ["fault"]},
            "kind": {
                "type": "string",
                "enum": [*faults.KINDS, *faults.MESSAGE_KINDS],
                "description": "duplicate, delay and out-of-order act on outgoing messages "
                "(action: CALL, SMS or FORWARD; no door)",
            },
            "action": {"type": "string"},
            "door": {"type": "string", "enum": ["v3", "apicall", "v2", "v1"]},
            "nth": {"type": "integer", "minimum": 1},
            "probability": {"type": "number", "minimum": 0, "maximum": 1},
            "times": {"type": "integer", "minimum": 1, "nullable": True},
            "when": {"type": "string", "enum": ["before", "after"]},
            "seconds": {
                "type": "number",
                "minimum": 0,
                "maximum": faults.MAX_HOLD,
                "description": f"at most {faults.MAX_DELAY:g} for a request fault",
            },
            "status": {"type": "integer", "minimum": 200, "maximum": 599},
        },
    },
    "Snapshot": {
        "type": "object",
        "required": ["format", "tenants"],
        "properties": {"format": {"type": "string"}, "tenants": {"type": "array", "items": OBJ}},
    },
}
