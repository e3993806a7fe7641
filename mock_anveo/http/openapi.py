"""The OpenAPI 3.0 description of the control API, served at ``/_mock/openapi.json``."""

from __future__ import annotations

from typing import Any

from .._version import __version__
from . import apinotify
from .apiparts import (
    CONFLICT,
    ERR,
    NO_CONTENT,
    OBJ,
    SCHEMAS,
    USERKEY,
    body,
    ref,
    reply,
)


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
    rule = {"allOf": [ref(schema), {"type": "object", "required": ["id", "rule"]}]}
    return {
        "get": {
            "summary": f"List {kind}",
            "parameters": [USERKEY],
            "responses": {"200": reply({"type": "array", "items": rule}), **ERR},
        },
        "post": {
            "summary": f"Add a {kind[:-1]} (first matching rule wins)",
            "parameters": [USERKEY],
            "requestBody": body(ref(schema)),
            "responses": {"201": reply(rule, "Created"), **ERR, **CONFLICT},
        },
        "delete": {
            "summary": f"Delete all {kind}",
            "parameters": [USERKEY],
            "responses": NO_CONTENT,
        },
    }


def document() -> dict[str, Any]:
    """The whole OpenAPI document."""
    t = "/_mock/tenants/{userkey}"
    rule_id = {"name": "rule_id", "in": "path", "required": True, "schema": {"type": "string"}}
    requestid = {"name": "requestid", "in": "path", "required": True, "schema": {"type": "string"}}
    doc: dict[str, Any] = {
        "openapi": "3.0.3",
        "info": {
            "title": "mock-anveo control API",
            "version": __version__,
            "description": "Drive the mock: tenants, clocks, calls, journal, scenarios, "
            "faults, snapshots.",
        },
        "paths": {
            "/_mock/": {
                "get": {
                    "summary": "Index: links to openapi.json, health, tenants (also at /_mock)",
                    "responses": {"200": reply(OBJ)},
                }
            },
            "/_mock/health": {"get": {"summary": "Liveness", "responses": {"200": reply(OBJ)}}},
            "/_mock/reset": {
                "post": {
                    "summary": "Back to the configured start state",
                    "responses": {"200": reply(OBJ)},
                }
            },
            "/_mock/errors": {
                "get": {
                    "summary": "Unexpected exceptions inside the server",
                    "responses": {"200": reply({"type": "array"})},
                }
            },
            "/_mock/events": {
                "get": {
                    "summary": "Live feed (server-sent events) for the dashboard",
                    "description": "An endless text/event-stream: `hello` first, then `change` "
                    'with {"tenants": [userkeys that changed], "removed": [userkeys]} whenever '
                    "a tenant's journal, rules, SMS, outgoing messages (one made, an attempt "
                    "made), clock or balance moved; re-read those "
                    "tenants here. A comment line every 15 s keeps it open.",
                    "responses": {
                        "200": {
                            "description": "The event stream",
                            "content": {"text/event-stream": {"schema": {"type": "string"}}},
                        },
                        **ERR,
                    },
                }
            },
            "/_mock/journal": {
                "get": {
                    "summary": "Requests no tenant owns",
                    "parameters": _JOURNAL_QUERY,
                    "responses": {"200": reply(OBJ), **ERR},
                }
            },
            "/_mock/snapshot": {
                "get": {
                    "summary": "The whole state as JSON",
                    "responses": {"200": reply(ref("Snapshot"))},
                },
                "put": {
                    "summary": "Replace the whole state with a snapshot",
                    "requestBody": body(ref("Snapshot")),
                    "responses": {"200": reply(OBJ), **ERR},
                },
            },
            "/_mock/tenants": {
                "get": {
                    "summary": "List tenants",
                    "responses": {"200": reply({"type": "array", "items": ref("Tenant")})},
                },
                "post": {
                    "summary": "Create a tenant",
                    "requestBody": body(ref("TenantIn"), required=False),
                    "responses": {
                        "201": reply(ref("Tenant"), "Created"),
                        **ERR,
                        "409": reply(ref("Error"), "Exists, or server full"),
                    },
                },
            },
            t: {
                "get": {
                    "summary": "A tenant",
                    "parameters": [USERKEY],
                    "responses": {"200": reply(ref("Tenant")), **ERR},
                },
                "patch": {
                    "summary": "Change account fields",
                    "parameters": [USERKEY],
                    "requestBody": body(ref("TenantPatch")),
                    "responses": {"200": reply(ref("Tenant")), **ERR},
                },
                "delete": {
                    "summary": "Delete a tenant; answers with its server errors",
                    "parameters": [USERKEY],
                    "responses": {"200": reply(OBJ), **ERR},
                },
            },
            t + "/reset": {
                "post": {
                    "summary": "The tenant as it was created",
                    "parameters": [USERKEY],
                    "responses": {"200": reply(ref("Tenant")), **ERR, **CONFLICT},
                }
            },
            t + "/clock": {
                "get": {
                    "summary": "The tenant's clock",
                    "parameters": [USERKEY],
                    "responses": {"200": reply(ref("Clock")), **ERR},
                },
                "patch": {
                    "summary": "Set the clock's rate (0 = frozen)",
                    "parameters": [USERKEY],
                    "requestBody": body(
                        {
                            "type": "object",
                            "required": ["rate"],
                            "additionalProperties": False,
                            "properties": {
                                "rate": {"type": "number", "minimum": 0, "maximum": 1000000}
                            },
                        }
                    ),
                    "responses": {"200": reply(ref("Clock")), **ERR},
                },
            },
            t + "/clock/advance": {
                "post": {
                    "summary": "Move time forward, firing due events",
                    "parameters": [USERKEY],
                    "requestBody": body(ref("Advance")),
                    "responses": {
                        "200": reply(ref("Clock")),
                        **ERR,
                        "409": reply(
                            ref("Error"),
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
                        USERKEY,
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
                    "responses": {"200": reply({"type": "array", "items": ref("Call")}), **ERR},
                }
            },
            t + "/calls/{requestid}": {
                "get": {
                    "summary": "One call with its legs and timeline",
                    "parameters": [USERKEY, requestid],
                    "responses": {"200": reply(ref("Call")), **ERR},
                }
            },
            t + "/journal": {
                "get": {
                    "summary": "Every exchange and state change",
                    "parameters": [USERKEY, *_JOURNAL_QUERY],
                    "responses": {"200": reply(OBJ), **ERR},
                },
                "delete": {
                    "summary": "Clear the journal",
                    "parameters": [USERKEY],
                    "responses": NO_CONTENT,
                },
            },
            t + "/sms": {
                "get": {
                    "summary": "Messages sent through the v1 text door",
                    "parameters": [USERKEY],
                    "responses": {"200": reply({"type": "array"}), **ERR},
                }
            },
            t + "/errors": {
                "get": {
                    "summary": "Unexpected exceptions of this tenant",
                    "parameters": [USERKEY],
                    "responses": {"200": reply({"type": "array"}), **ERR},
                }
            },
            t + "/scenarios": _rules("scenarios", "Scenario"),
            t + "/scenarios/{rule_id}": {
                "delete": {
                    "summary": "Delete one scenario rule",
                    "parameters": [USERKEY, rule_id],
                    "responses": NO_CONTENT,
                }
            },
            t + "/faults": _rules("faults", "Fault"),
            t + "/faults/{rule_id}": {
                "delete": {
                    "summary": "Delete one fault rule",
                    "parameters": [USERKEY, rule_id],
                    "responses": NO_CONTENT,
                }
            },
        },
        "components": {"schemas": {**SCHEMAS, "Message": apinotify.MESSAGE}},
    }
    doc["paths"].update(apinotify.paths(t))
    # Where the mock calls the customer's app: the URLs a tenant is given when created.
    doc["paths"]["/_mock/tenants"]["post"]["callbacks"] = apinotify.CALLBACKS
    doc["paths"][t]["patch"]["callbacks"] = apinotify.CALLBACKS
    return doc
