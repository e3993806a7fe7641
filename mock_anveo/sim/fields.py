"""The field names of a tenant document, apart from their validation.

Kept free of imports so the pytest plugin can name a marker's valid keywords without loading
the simulation core (a session bound to a remote server never builds a tenant locally).
"""

from __future__ import annotations

__all__ = ["ACCOUNT_FIELDS", "PATCH_FIELDS", "TENANT_FIELDS"]

#: Every field of an account (``accounts.apply_fields``).
ACCOUNT_FIELDS = (
    "userkey",
    "email",
    "secure_phrase",
    "require_signature",
    "balance",
    "rate_per_minute",
    "verified_callerids",
    "callflows",
    "notification_url",
    "numbers",
)
#: Every field a tenant document (POST /_mock/tenants) may hold.
TENANT_FIELDS = (*ACCOUNT_FIELDS, "start", "clock_rate", "scenarios", "faults")
#: Every field a change of tenant (PATCH) may hold.
PATCH_FIELDS = (*(f for f in ACCOUNT_FIELDS if f != "userkey"), "clock_rate")
