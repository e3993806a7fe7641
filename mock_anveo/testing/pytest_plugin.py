"""pytest plugin (entry point ``anveo``): the ``anveo`` fixture, its marker and ``--anveo-url``.

One server per session (a background thread, or the one at ``--anveo-url`` /
``$MOCK_ANVEO_URL``); every test gets a controller on a fresh tenant, deleted at teardown.
Exceptions the server recorded for that tenant fail the test at teardown. Imports stay light
here because pytest loads this module in every session of an environment that has mock-anveo
installed: nothing of the server (aiohttp, lxml, the XSDs) loads unless a server is started.
"""

from __future__ import annotations

import difflib
import inspect
import os
import re
import time
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from ..http.app import ServerOptions
    from ..sim.world import Settings
    from .controller import MockAnveo

URL_ENV = "MOCK_ANVEO_URL"
TOKEN_ENV = "MOCK_ANVEO_CONTROL_TOKEN"
#: The warning Python gives for a coroutine dropped unawaited, when it is a controller verb's
#: (a pattern, compiled by ``re`` at its first use: most sessions have no async test).
_UNAWAITED = r"coroutine '(?:Controller|\w*MockAnveo)\.(\w+)' was never awaited"
#: The control token of the server this session started, if it has one.
_OWN_TOKEN = pytest.StashKey[str | None]()


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add ``--anveo-url``."""
    parser.getgroup("anveo").addoption(
        "--anveo-url",
        default=None,
        metavar="URL",
        help=f"use the mock-anveo server running at URL (default: ${URL_ENV}; otherwise one "
        "is started for the session)",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Declare the ``anveo`` marker."""
    config.addinivalue_line(
        "markers",
        "anveo(**tenant): preset the anveo fixture's tenant, e.g. balance='0.05', "
        "verified_callerids=[...], scenarios=[{...}], faults=[{...}], clock_rate=0, "
        "notification_url='http://127.0.0.1:PORT/cdr' (or 'sink': the built-in sink), "
        "numbers=[{'number': '12155550123', 'sms_url': '...'}]",
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Any:
    """Fail an ``async def`` test that called an async controller verb without ``await``: the
    request was never sent, so the test would otherwise pass on a warning."""
    if not inspect.iscoroutinefunction(getattr(item, "obj", None)):
        return (yield)
    with warnings.catch_warnings(record=True) as caught:
        result = yield
    forgotten = []
    for found in caught:
        match = re.search(_UNAWAITED, str(found.message))
        if match is not None and issubclass(found.category, RuntimeWarning):
            forgotten.append(match.group(1))
        else:  # everyone else's warnings go on to pytest's summary as before
            warnings.warn_explicit(found.message, found.category, found.filename, found.lineno)
    if forgotten:
        names = ", ".join(f"anveo.{name}(...)" for name in forgotten)
        pytest.fail(
            f"{names} was called without await, so mock-anveo never received it: "
            f"write `await anveo.{forgotten[0]}(...)` (the async controller's verbs are "
            "coroutines)",
            pytrace=False,
        )
    return result


@pytest.fixture(scope="session")
def anveo_server_options() -> ServerOptions:
    """Override me: options of the session's own server (ignored with --anveo-url)."""
    from ..http.app import ServerOptions  # noqa: PLC0415 - aiohttp and lxml only when serving

    return ServerOptions()


@pytest.fixture(scope="session")
def anveo_settings() -> Settings:
    """Override me: world settings (seed, journal limit, ...) of the session's own server."""
    from ..sim.world import Settings  # noqa: PLC0415 - the core only when serving

    return Settings()


@pytest.fixture
def anveo_tenant() -> dict[str, Any]:
    """Override me: tenant fields every ``anveo`` fixture starts with (markers override)."""
    return {}


@pytest.fixture(scope="session")
def anveo_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """Base URL of the session's server: --anveo-url, $MOCK_ANVEO_URL (nothing of the server
    is imported then), or one started here from the two override fixtures above."""
    given = request.config.getoption("anveo_url") or os.environ.get(URL_ENV)
    if given:
        yield given.rstrip("/")
        return
    # Asked for only here, so a session bound to a remote server never builds them.
    options: ServerOptions = request.getfixturevalue("anveo_server_options")
    settings: Settings = request.getfixturevalue("anveo_settings")
    from ..http.server import ThreadedServer  # noqa: PLC0415 - aiohttp only when serving
    from ..sim.world import World  # noqa: PLC0415 - the core only when serving

    server = ThreadedServer(
        lambda: World(settings, monotonic=time.monotonic, wallclock=time.time), options
    ).start()
    request.config.stash[_OWN_TOKEN] = options.control_token  # the anveo fixture sends it
    try:
        yield server.url
    finally:
        server.stop()


def _check_fields(fields: dict[str, Any], where: str) -> None:
    """Fail the test, clearly, on a keyword the tenant does not have (a typo such as
    ``acounts=``), instead of a raw TypeError from deep inside the controller."""
    if not fields:  # the usual case: no marker, no override; nothing to import
        return
    from ..sim.fields import TENANT_FIELDS  # noqa: PLC0415 - names only, not the core

    unknown = sorted(set(fields) - set(TENANT_FIELDS))
    if unknown:
        close = difflib.get_close_matches(unknown[0], TENANT_FIELDS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        pytest.fail(
            f"{where}: unknown keyword {unknown[0]!r}{hint}; valid: {', '.join(TENANT_FIELDS)}",
            pytrace=False,
        )


@pytest.fixture
def anveo(
    request: pytest.FixtureRequest, anveo_url: str, anveo_tenant: dict[str, Any]
) -> Iterator[MockAnveo]:
    """A controller on a fresh tenant of the session's server; the tenant goes at teardown."""
    from .controller import MockAnveo  # noqa: PLC0415 - sessions that never use it skip it

    fields = dict(anveo_tenant)
    _check_fields(fields, "the anveo_tenant fixture")
    for marker in reversed(list(request.node.iter_markers("anveo"))):  # closest wins
        if marker.args:
            pytest.fail("@pytest.mark.anveo takes keyword arguments only", pytrace=False)
        _check_fields(marker.kwargs, "@pytest.mark.anveo")
        fields.update(marker.kwargs)
    token = os.environ.get(TOKEN_ENV) or request.config.stash.get(_OWN_TOKEN, None)
    # Leaving the block deletes the tenant; the deletion's answer carries any exceptions the
    # server recorded for it, which fail the test here at teardown with their tracebacks.
    to_sink = fields.get("notification_url") == "sink"  # known only once the tenant exists
    if to_sink:
        del fields["notification_url"]
    with MockAnveo.remote(anveo_url, token, **fields) as controller:
        if to_sink:
            controller.set_account(notification_url=controller.sink_url)
        yield controller
