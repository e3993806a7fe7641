"""The OpenAPI 3.0 description of the control API, served at ``/_mock/openapi.json``."""

from __future__ import annotations

from typing import Any

from .._version import __version__


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _body(schema: dict[str, Any], required: bool = True) -> dict[str, Any]:
    return {"required": required, "content": {"application/json": {"schema": schema}}}


_ERR = {"400": _json(_ref("Error"), "Bad request"), "404": _json(_ref("Error"), "Not found")}
_CONFLICT = {"409": _json(_ref("Error"), "Conflict")}
_NO_CONTENT = {"204": {"description": "Done"}, **_ERR}
_USERKEY = {
    "name": "userkey",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "minLength": 1, "maxLength": 64},
}
_OBJ: dict[str, Any] = {"type": "object"}

_SCHEMAS: dict[str, Any] = {
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
            "email": {"type": "string", "maxLength": 254},
            "secure_phrase": {"type": "string", "nullable": True, "maxLength": 256},
            "require_signature": {"type": "boolean"},
            "balance": {"oneOf": [{"type": "string"}, {"type": "number"}]},
            "rate_per_minute": {"oneOf": [{"type": "string"}, {"type": "number"}]},
            "verified_callerids": {"type": "array", "items": {"type": "string"}},
            "callflows": {"type": "array", "items": {"type": "string"}},
            "start": {"type": "string", "format": "date-time"},
            "clock_rate": {"type": "number", "minimum": 0, "maximum": 1000000},
            "scenarios": {"type": "array", "items": _ref("Scenario")},
            "faults": {"type": "array", "items": _ref("Fault")},
        },
    },
    "TenantPatch": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "email": {"type": "string", "maxLength": 254},
            "secure_phrase": {"type": "string", "nullable": True, "maxLength": 256},
            "require_signature": {"type": "boolean"},
            "balance": {"oneOf": [{"type": "string"}, {"type": "number"}]},
            "rate_per_minute": {"oneOf": [{"type": "string"}, {"type": "number"}]},
            "verified_callerids": {"type": "array", "items": {"type": "string"}},
            "callflows": {"type": "array", "items": {"type": "string"}},
            "clock_rate": {"type": "number", "minimum": 0, "maximum": 1000000},
        },
    },
    "Tenant": {
        "type": "object",
        "properties": {
            "userkey": {"type": "string"},
            "balance": {"type": "string"},
            "clock": _ref("Clock"),
            "calls": {"type": "integer"},
        },
    },
    "Clock": {
        "type": "object",
        "properties": {
            "now": {"type": "string", "format": "date-time"},
            "rate": {"type": "number"},
            "pending_events": {"type": "integer"},
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
            "legs": {"type": "array", "items": _OBJ},
            "timeline": {"type": "array", "items": _OBJ},
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
            "sequence": {"type": "array", "items": _ref("Leg")},
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
                "enum": ["latency", "http-status", "html", "truncated", "reset", "hang"],
            },
            "action": {"type": "string"},
            "door": {"type": "string", "enum": ["v3", "apicall", "v2", "v1"]},
            "nth": {"type": "integer", "minimum": 1},
            "probability": {"type": "number", "minimum": 0, "maximum": 1},
            "times": {"type": "integer", "minimum": 1, "nullable": True},
            "when": {"type": "string", "enum": ["before", "after"]},
            "seconds": {"type": "number", "minimum": 0, "maximum": 60},
            "status": {"type": "integer", "minimum": 200, "maximum": 599},
        },
    },
    "Snapshot": {
        "type": "object",
        "required": ["format", "tenants"],
        "properties": {"format": {"type": "string"}, "tenants": {"type": "array", "items": _OBJ}},
    },
}


def _query(name: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        **({"description": description} if description else {}),
    }


_COUNT = {"type": "integer", "minimum": 0, "maximum": 10**12}
#: The journal's filters (a tenant's and the one no tenant owns); names in any letter case.
_JOURNAL_QUERY = [
    _query("action", {"type": "string"}, "an ACTION NAME or SMS (any letter case)"),
    _query("kind", {"type": "string", "enum": ["exchange", "transition"]}),
    _query("since", _COUNT),
    _query("limit", _COUNT),
]


def _rules(kind: str, schema: str) -> dict[str, Any]:
    rule = {"allOf": [_ref(schema), {"type": "object", "required": ["id", "rule"]}]}
    return {
        "get": {
            "summary": f"List {kind}",
            "parameters": [_USERKEY],
            "responses": {"200": _json({"type": "array", "items": rule}), **_ERR},
        },
        "post": {
            "summary": f"Add a {kind[:-1]} (first matching rule wins)",
            "parameters": [_USERKEY],
            "requestBody": _body(_ref(schema)),
            "responses": {"201": _json(rule, "Created"), **_ERR, **_CONFLICT},
        },
        "delete": {
            "summary": f"Delete all {kind}",
            "parameters": [_USERKEY],
            "responses": _NO_CONTENT,
        },
    }


def document() -> dict[str, Any]:
    """The whole OpenAPI document."""
    t = "/_mock/tenants/{userkey}"
    rule_id = {"name": "rule_id", "in": "path", "required": True, "schema": {"type": "string"}}
    requestid = {"name": "requestid", "in": "path", "required": True, "schema": {"type": "string"}}
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "mock-anveo control API",
            "version": __version__,
            "description": "Drive the mock: tenants, clocks, calls, journal, scenarios, "
            "faults, snapshots.",
        },
        "paths": {
            "/_mock/health": {"get": {"summary": "Liveness", "responses": {"200": _json(_OBJ)}}},
            "/_mock/reset": {
                "post": {
                    "summary": "Back to the configured start state",
                    "responses": {"200": _json(_OBJ)},
                }
            },
            "/_mock/errors": {
                "get": {
                    "summary": "Unexpected exceptions inside the server",
                    "responses": {"200": _json({"type": "array"})},
                }
            },
            "/_mock/journal": {
                "get": {
                    "summary": "Requests no tenant owns",
                    "parameters": _JOURNAL_QUERY,
                    "responses": {"200": _json(_OBJ), **_ERR},
                }
            },
            "/_mock/snapshot": {
                "get": {
                    "summary": "The whole state as JSON",
                    "responses": {"200": _json(_ref("Snapshot"))},
                },
                "put": {
                    "summary": "Replace the whole state with a snapshot",
                    "requestBody": _body(_ref("Snapshot")),
                    "responses": {"200": _json(_OBJ), **_ERR},
                },
            },
            "/_mock/tenants": {
                "get": {
                    "summary": "List tenants",
                    "responses": {"200": _json({"type": "array", "items": _ref("Tenant")})},
                },
                "post": {
                    "summary": "Create a tenant",
                    "requestBody": _body(_ref("TenantIn"), required=False),
                    "responses": {
                        "201": _json(_ref("Tenant"), "Created"),
                        **_ERR,
                        "409": _json(_ref("Error"), "Exists, or server full"),
                    },
                },
            },
            t: {
                "get": {
                    "summary": "A tenant",
                    "parameters": [_USERKEY],
                    "responses": {"200": _json(_ref("Tenant")), **_ERR},
                },
                "patch": {
                    "summary": "Change account fields",
                    "parameters": [_USERKEY],
                    "requestBody": _body(_ref("TenantPatch")),
                    "responses": {"200": _json(_ref("Tenant")), **_ERR},
                },
                "delete": {
                    "summary": "Delete a tenant; answers with its server errors",
                    "parameters": [_USERKEY],
                    "responses": {"200": _json(_OBJ), **_ERR},
                },
            },
            t + "/reset": {
                "post": {
                    "summary": "The tenant as it was created",
                    "parameters": [_USERKEY],
                    "responses": {"200": _json(_ref("Tenant")), **_ERR, **_CONFLICT},
                }
            },
            t + "/clock": {
                "get": {
                    "summary": "The tenant's clock",
                    "parameters": [_USERKEY],
                    "responses": {"200": _json(_ref("Clock")), **_ERR},
                },
                "patch": {
                    "summary": "Set the clock's rate (0 = frozen)",
                    "parameters": [_USERKEY],
                    "requestBody": _body(
                        {
                            "type": "object",
                            "required": ["rate"],
                            "additionalProperties": False,
                            "properties": {
                                "rate": {"type": "number", "minimum": 0, "maximum": 1000000}
                            },
                        }
                    ),
                    "responses": {"200": _json(_ref("Clock")), **_ERR},
                },
            },
            t + "/clock/advance": {
                "post": {
                    "summary": "Move time forward, firing due events",
                    "parameters": [_USERKEY],
                    "requestBody": _body(_ref("Advance")),
                    "responses": {
                        "200": _json(_ref("Clock")),
                        **_ERR,
                        "409": _json(
                            _ref("Error"),
                            "until_idle: still not idle after max_seconds (the clock "
                            "moved; pending_events and next_event_at say what is left)",
                        ),
                    },
                }
            },
            t + "/calls": {
                "get": {
                    "summary": "Calls, optionally filtered",
                    "parameters": [
                        _USERKEY,
                        _query(
                            "status",
                            {"type": "string", "enum": ["NONE", "INIT", "START", "END"]},
                            "any letter case",
                        ),
                        _query(
                            "action",
                            {"type": "string", "enum": ["DIAL.CONNECT", "DIAL.CALLFLOW"]},
                            "any letter case",
                        ),
                        _query("billingcode", {"type": "string", "maxLength": 256}),
                        _query("offset", _COUNT),
                        _query("limit", _COUNT),
                    ],
                    "responses": {"200": _json({"type": "array", "items": _ref("Call")}), **_ERR},
                }
            },
            t + "/calls/{requestid}": {
                "get": {
                    "summary": "One call with its legs and timeline",
                    "parameters": [_USERKEY, requestid],
                    "responses": {"200": _json(_ref("Call")), **_ERR},
                }
            },
            t + "/journal": {
                "get": {
                    "summary": "Every exchange and state change",
                    "parameters": [_USERKEY, *_JOURNAL_QUERY],
                    "responses": {"200": _json(_OBJ), **_ERR},
                },
                "delete": {
                    "summary": "Clear the journal",
                    "parameters": [_USERKEY],
                    "responses": _NO_CONTENT,
                },
            },
            t + "/sms": {
                "get": {
                    "summary": "Messages sent through the v1 text door",
                    "parameters": [_USERKEY],
                    "responses": {"200": _json({"type": "array"}), **_ERR},
                }
            },
            t + "/errors": {
                "get": {
                    "summary": "Unexpected exceptions of this tenant",
                    "parameters": [_USERKEY],
                    "responses": {"200": _json({"type": "array"}), **_ERR},
                }
            },
            t + "/scenarios": _rules("scenarios", "Scenario"),
            t + "/scenarios/{rule_id}": {
                "delete": {
                    "summary": "Delete one scenario rule",
                    "parameters": [_USERKEY, rule_id],
                    "responses": _NO_CONTENT,
                }
            },
            t + "/faults": _rules("faults", "Fault"),
            t + "/faults/{rule_id}": {
                "delete": {
                    "summary": "Delete one fault rule",
                    "parameters": [_USERKEY, rule_id],
                    "responses": _NO_CONTENT,
                }
            },
        },
        "components": {"schemas": _SCHEMAS},
    }
