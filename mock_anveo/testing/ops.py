"""Control requests as data: an ``Op`` (method, path, body, parser) and the ``verb`` descriptor.

Every controller verb is written once, as a function that builds an ``Op``; ``verb`` turns it
into a method that hands the ``Op`` to the face's ``_run``: a blocking round trip on
``MockAnveo``, an awaitable one on ``AsyncMockAnveo``. Neither this module nor its callers
know how the bytes travel; ``transport`` does.
"""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any, Concatenate, Generic, NamedTuple, ParamSpec, Self, TypeVar, overload

__all__ = ["AsyncRunner", "Op", "SyncRunner", "encode", "finish", "iso_moment", "verb"]

T = TypeVar("T")
P = ParamSpec("P")


class Op(NamedTuple, Generic[T]):
    """One control-API request and how to read its answer.

    A named tuple, not a frozen dataclass: as immutable, and defining it costs a fifth of the
    time at import, which every session using the controller pays.
    """

    method: str
    path: str  # below the server's base URL, query string included
    parse: Callable[[Any], T]  # gets the decoded JSON (None for an empty body)
    body: Any = None  # JSON-able, or None for no body
    missing_ok: bool = False  # a 404 is fine (deleting a tenant that is already gone)


def iso_moment(moment: datetime | str) -> str:
    """A moment for the control API: ISO-8601 text as given, or a datetime (naive means UTC)."""
    if isinstance(moment, str):
        return moment
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()


def encode(op: Op[Any]) -> bytes | None:
    """The request body as bytes."""
    return None if op.body is None else json.dumps(op.body).encode()


def finish(op: Op[T], status: int, data: bytes) -> T:
    """Parse a successful answer, or raise ControlError with the server's message and field."""
    if status == 404 and op.missing_ok:
        return op.parse(None)
    if status >= 400:
        # Imported here: the error codes' enum is not needed by a session whose requests succeed.
        from ..errors import ControlError  # noqa: PLC0415

        try:
            doc = json.loads(data)
            message, name = str(doc["error"]), doc.get("field")
        except (ValueError, KeyError, TypeError):
            message, name = data.decode("utf-8", "replace").strip() or f"HTTP {status}", None
        raise ControlError(status, f"{message} ({op.method} {op.path} -> {status})", name)
    return op.parse(json.loads(data) if data else None)


class SyncRunner:
    """A face whose ``_run`` answers at once (``MockAnveo``)."""

    def _run(self, op: Op[T]) -> T:
        raise NotImplementedError


class AsyncRunner:
    """A face whose ``_run`` is awaited (``AsyncMockAnveo``)."""

    async def _run(self, op: Op[T]) -> T:
        raise NotImplementedError


class verb(Generic[P, T]):
    """Decorator: a function building an ``Op`` becomes a verb of both controller faces."""

    def __init__(self, build: Callable[Concatenate[Any, P], Op[T]]) -> None:
        self._build = build
        self.__doc__ = build.__doc__  # help() and IDEs show the verb's docstring

    @functools.cached_property
    def _signature(self) -> inspect.Signature:
        # The verb as a bound method shows it: no ``self``, and not the Op it builds.
        whole = inspect.signature(self._build)
        return whole.replace(
            parameters=list(whole.parameters.values())[1:],
            return_annotation=inspect.Signature.empty,
        )

    @overload
    def __get__(self, face: None, owner: type[Any]) -> Self: ...
    @overload
    def __get__(self, face: SyncRunner, owner: type[Any]) -> Callable[P, T]: ...
    @overload
    def __get__(
        self, face: AsyncRunner, owner: type[Any]
    ) -> Callable[P, Coroutine[Any, Any, T]]: ...
    def __get__(self, face: Any, owner: type[Any]) -> Any:
        if face is None:
            return self
        build = self._build

        async def awaited(*args: Any, **kwargs: Any) -> Any:
            return await face._run(build(face, *args, **kwargs))  # noqa: SLF001 - its runner

        def blocking(*args: Any, **kwargs: Any) -> Any:
            return face._run(build(face, *args, **kwargs))  # noqa: SLF001 - its runner

        # The async face gets a real coroutine function, as inspect and unittest.mock expect.
        bound: Callable[..., Any] = awaited if isinstance(face, AsyncRunner) else blocking
        functools.update_wrapper(bound, build)
        setattr(bound, "__signature__", self._signature)  # noqa: B010 - not in function's type
        return bound

    def __repr__(self) -> str:
        return f"<verb {self._build.__name__}{self._signature}>"
