"""The OpenAPI description of what the mock sends (notifications and SMS forwards) and of
the control routes that show it: the notifications list, inbound SMS and the sink."""

from __future__ import annotations

from typing import Any

from ..sim.outbox import KINDS, STATES
from .apiparts import ERR, OBJ, USERKEY, body, ref, reply

_TEXT = {"type": "string"}
_GENERAL = ["NOTIFICATIONID", "NOTIFICATIONTYPE", "EVENTTIME", "ATTEMPT", "RECORDID"]
_SOURCE = ["SOURCE", "ACTION", "RESPONSEID", "BILLINGCODE", "MEMO"]
_CALL = ["STATUS", "PHONENUMBER", "DESTPHONENUMBER", "CALLERID", "DIALTIME", "ANSWERTIME"]
_CALL += ["ENDTIME", "DURATION", "FEE", "LEG1FEE", "LEG2FEE"]
_SMS = ["SMSID", "FROM", "DESTINATION", "PARTS", "FEE", "STATUS"]


def _form(names: list[str], description: str) -> dict[str, Any]:
    schema = {"type": "object", "properties": {name: _TEXT for name in names}}
    return {
        "description": description,
        "required": True,
        "content": {"application/x-www-form-urlencoded": {"schema": schema}},
    }


def _post(summary: str, names: list[str]) -> dict[str, Any]:
    return {
        "post": {
            "summary": summary,
            "requestBody": _form(_GENERAL + names + _SOURCE, "upper-case form fields"),
            "responses": {"2XX": {"description": "delivered; anything else is retried"}},
        }
    }


#: OpenAPI 3.0 callbacks, keyed by the runtime expression of the URL the tenant was given.
CALLBACKS: dict[str, Any] = {
    "callNotification": {"{$request.body#/notification_url}": _post("A call ended", _CALL)},
    "smsReport": {"{$request.body#/notification_url}": _post("A v1 SMS report", _SMS)},
    "smsForward": {
        "{$request.body#/numbers/0/sms_url}": {
            "get": {
                "summary": "An SMS arrived: the number's template filled with $[from]$, "
                "$[to]$ and $[message]$, percent-encoded UTF-8",
                "responses": {"2XX": {"description": "delivered; anything else is retried"}},
            }
        }
    },
}

MESSAGE: dict[str, Any] = {
    "type": "object",
    "required": ["id", "type", "url", "fields", "state", "attempts"],
    "properties": {
        "id": _TEXT,
        "type": {"type": "string", "enum": list(KINDS)},
        "method": {"type": "string", "enum": ["POST", "GET"]},
        "url": {
            "type": "string",
            "description": "the URL requested, byte for byte: its path and query are the "
            "request target the receiver sees",
        },
        "fields": {"type": "object", "additionalProperties": _TEXT},
        "state": {"type": "string", "enum": list(STATES)},
        "attempts": {"type": "array", "items": OBJ},
    },
}


def _query(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema}


def paths(tenant: str) -> dict[str, Any]:
    """The notification routes, under ``tenant`` (the tenant's path template)."""
    count = {"type": "integer", "minimum": 0}
    name = {"name": "name", "in": "path", "required": True, "schema": _TEXT}
    return {
        tenant + "/notifications": {
            "get": {
                "summary": "Outgoing messages (CALL, SMS, FORWARD), oldest first",
                "parameters": [
                    USERKEY,
                    _query("type", {"type": "string", "enum": list(KINDS)}),
                    _query("state", {"type": "string", "enum": list(STATES)}),
                    _query("offset", count),
                    _query("limit", count),
                ],
                "responses": {"200": reply({"type": "array", "items": ref("Message")}), **ERR},
            }
        },
        tenant + "/sms/inbound": {
            "post": {
                "summary": "An SMS arrives on one of the tenant's numbers (its forward is sent)",
                "parameters": [USERKEY],
                "requestBody": body(
                    {
                        "type": "object",
                        "required": ["from", "to", "message"],
                        "properties": {"from": _TEXT, "to": _TEXT, "message": _TEXT},
                    }
                ),
                "responses": {
                    "201": reply(
                        {
                            "type": "object",
                            "required": ["forwarded"],
                            "properties": {
                                "forwarded": {"type": "boolean"},
                                "reason": _TEXT,
                                "message": ref("Message"),
                            },
                        },
                        "Arrived",
                    ),
                    **ERR,
                },
            }
        },
        "/_mock/sinks/{name}": {
            "get": {
                "summary": "What the sink /_mock/sink/{name} received, oldest first",
                "parameters": [name],
                "responses": {"200": reply({"type": "array", "items": OBJ})},
            },
            "delete": {
                "summary": "Forget what the sink received",
                "parameters": [name],
                "responses": {"200": reply(OBJ)},
            },
        },
    }
