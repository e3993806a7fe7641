"""The XSDs compiled by lxml, and the canonical document that ``actions.xsd`` validates."""

from __future__ import annotations

from collections.abc import Iterable
from importlib import resources
from typing import Any

from lxml import etree


def schema_path(name: str) -> Any:
    """The packaged file ``schemas/<name>`` (a ``Traversable``)."""
    return resources.files(__package__).joinpath("schemas").joinpath(name)


def _schema(name: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.fromstring(schema_path(name).read_bytes()))


REQUEST_SCHEMA = _schema("request.xsd")
RESPONSE_SCHEMA = _schema("response.xsd")
ACTIONS_SCHEMA = _schema("actions.xsd")


def last_error(schema: etree.XMLSchema) -> Any:
    """The schema's last validation error (lxml-stubs do not declare ``last_error``)."""
    return getattr(schema.error_log, "last_error", None)


def build_canonical(
    action: str, params: Iterable[tuple[str, str]], variables: Iterable[tuple[str, str]]
) -> Any:
    """The document actions.xsd validates: one element per parameter, VARIABLEs grouped."""
    root = etree.Element(action)
    for name, value in params:
        etree.SubElement(root, name).text = value
    variables = tuple(variables)
    if variables:
        group = etree.SubElement(root, "VARIABLES")
        for name, value in variables:
            etree.SubElement(group, "VARIABLE", NAME=name).text = value
    return root
