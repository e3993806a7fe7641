"""Hypothesis strategies for property-testing your own Anveo client (needs the ``test`` extra).

Valid requests, per action:

- ``requests(action)``: ``ActionRequest`` values (alias ``AnveoRequest``: userkey, action,
  parameters, variables) that mock-anveo accepts for the account you describe (``userkey``,
  ``callerids``, ``callflows``, ``requestids``); render them yourself with ``to_xml()`` /
  ``to_query()``, or draw
- ``xml_requests(action)``: ``<REQUEST>`` documents (bytes) in the layouts real clients send
  (with or without declaration, any whitespace between elements, any parameter order), and
- ``v2_queries(action)``: GET-door query strings (any field order, ``userkey`` or ``USERKEY``).

DIAL.CONNECT and DIAL.CALLFLOW requests succeed (the account needs the balance for one minute
per leg); REQUESTID actions pass every check of the request's form, and succeed when
``requestids`` names requests the account owns in a state that allows the action.

Near misses: ``near_misses(action, door=...)`` draws a valid request and breaks exactly one
rule, the way clients get it wrong; each ``NearMiss`` carries its ``name`` (see ``NEAR_MISSES``)
and the error ``code`` mock-anveo reports for it (shown in the journal and control API).

Text values avoid control characters, surrogates and unassigned code points (XML 1.0 cannot
carry the first two) and never start or end with a space (the mock trims values), so what you
send is what the journal records.
"""

from __future__ import annotations

from ..wire.requests import ActionRequest
from .mistakes import NearMiss
from .nearmiss import NEAR_MISSES, near_misses
from .valid import (
    ACTIONS,
    BILLINGCODE_MAX,
    MEMO_MAX,
    V2_TEXT_MAX,
    V2_VARIABLE_VALUE_MAX,
    V2_VARIABLES_MAX,
    VARIABLE_VALUE_MAX,
    VARIABLES_MAX,
    XML_LONG_VARIABLES,
    XML_SHORT_VALUE,
    phone_numbers,
    requests,
    texts,
    v2_queries,
    xml_requests,
)

#: The name this type had when the strategies kept their own copy of ``ActionRequest``.
AnveoRequest = ActionRequest

__all__ = [
    "ACTIONS",
    "BILLINGCODE_MAX",
    "MEMO_MAX",
    "NEAR_MISSES",
    "V2_TEXT_MAX",
    "V2_VARIABLES_MAX",
    "V2_VARIABLE_VALUE_MAX",
    "VARIABLES_MAX",
    "VARIABLE_VALUE_MAX",
    "XML_LONG_VARIABLES",
    "XML_SHORT_VALUE",
    "ActionRequest",
    "AnveoRequest",
    "NearMiss",
    "near_misses",
    "phone_numbers",
    "requests",
    "texts",
    "v2_queries",
    "xml_requests",
]
