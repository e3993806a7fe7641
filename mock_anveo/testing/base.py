"""What a controller knows locally: its configuration, the server's URLs, its tenant's USERKEY."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from .answers import json_object, server_errors
from .ops import Op
from .spec import Money, Spec

if TYPE_CHECKING:
    from ..http.app import ServerOptions
    from ..sim.world import Settings
    from .records import ServerError

__all__ = ["ControllerBase"]


class ControllerBase:
    """Configuration and local properties; ``verbs.Controller`` adds the round trips."""

    def __init__(
        self,
        *,
        url: str | None = None,
        token: str | None = None,
        userkey: str | None = None,
        balance: Money | None = None,
        rate_per_minute: Money | None = None,
        verified_callerids: Iterable[str] | None = None,
        callflows: Iterable[str] | None = None,
        email: str | None = None,
        secure_phrase: str | None = None,
        require_signature: bool | None = None,
        start: datetime | str | None = None,
        clock_rate: float | None = 0.0,
        notification_url: str | None = None,
        numbers: Iterable[Mapping[str, Any]] | None = None,
        scenarios: Iterable[Mapping[str, Any]] = (),
        faults: Iterable[Mapping[str, Any]] = (),
        settings: Settings | None = None,
        options: ServerOptions | None = None,
    ) -> None:
        arguments = {
            name: value for name, value in locals().items() if name not in ("self", "__class__")
        }
        self._spec = Spec.build(**arguments)
        self._base: str | None = None
        self._userkey: str | None = None

    # ---- what the controller knows locally ----
    @property
    def url(self) -> str:
        """The server's base URL, e.g. ``http://127.0.0.1:38211``."""
        if self._base is None:
            raise RuntimeError("not started: use `with MockAnveo() as anveo:` (or open())")
        return self._base

    @property
    def api_url(self) -> str:
        """The XML ("v3") door: POST ``<REQUEST>`` documents here."""
        return self.url + "/api/v3.asp"

    @property
    def apicall_url(self) -> str:
        """The legacy XML door ``/apicall.asp``."""
        return self.url + "/apicall.asp"

    @property
    def v2_url(self) -> str:
        """The HTTP GET ("v2") door."""
        return self.url + "/api/v2.asp"

    @property
    def v1_url(self) -> str:
        """The legacy text SMS ("v1") door."""
        return self.url + "/api/v1.asp"

    @property
    def userkey(self) -> str:
        """This controller's tenant: the USERKEY your client must send."""
        if self._userkey is None:
            raise RuntimeError("not started: use `with MockAnveo() as anveo:` (or open())")
        return self._userkey

    @property
    def sink_url(self) -> str:
        """A capture URL on the mock itself for this tenant (read it with ``sink()``); set it
        as ``notification_url`` when no application of yours receives notifications."""
        return f"{self.url}/_mock/sink/{quote(self.userkey, safe='')}"

    @property
    def _t(self) -> str:
        return "/_mock/tenants/" + quote(self.userkey, safe="")

    # ---- the lifecycle's requests (the faces run them from open() and close()) ----
    def _create(self) -> Op[dict[str, Any]]:
        return Op("POST", "/_mock/tenants", json_object, self._spec.create_body())

    def _delete(self) -> Op[list[ServerError]]:
        # The server answers a deletion with the tenant's unexpected errors, saving a request.
        return Op(
            "DELETE", self._t, lambda d: server_errors((d or {}).get("errors")), missing_ok=True
        )
