"""``mock_anveo.contract`` is the one table: the registry, the XSDs and the docs agree with it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from mock_anveo import contract
from mock_anveo.testing import strategies
from mock_anveo.wire import actions
from mock_anveo.wire.xsd import schema_path

ROOT = Path(__file__).resolve().parent.parent
XS = "{http://www.w3.org/2001/XMLSchema}"


def _schema(name: str) -> Any:
    return etree.fromstring(schema_path(name).read_bytes())


ACTIONS_XSD = _schema("actions.xsd")
REQUEST_XSD = _schema("request.xsd")


def _facets(root: Any, type_name: str) -> dict[str, list[str]]:
    """Every facet of a named simple type, its bases' included (patterns accumulate)."""
    found: dict[str, list[str]] = {}
    while True:
        simple = root.find(f"{XS}simpleType[@name='{type_name}']")
        assert simple is not None, type_name
        restriction = simple.find(f"{XS}restriction")
        for facet in restriction:
            if isinstance(facet.tag, str):
                found.setdefault(facet.tag.removeprefix(XS), []).append(facet.get("value"))
        base = restriction.get("base")
        if base.startswith("xs:"):
            return found
        type_name = base


def _params(element: Any) -> list[Any]:
    inner = element.findall(f".//{XS}all/{XS}element")
    if not inner:
        named = ACTIONS_XSD.find(f"{XS}complexType[@name='{element.get('type')}']")
        inner = named.findall(f"{XS}all/{XS}element")
    return inner


def test_the_registry_is_built_from_the_contract() -> None:
    assert list(actions.REGISTRY) == list(contract.ACTIONS)
    for name, spec in contract.ACTIONS.items():
        registered = actions.REGISTRY[name]
        assert tuple(registered.params.values()) == spec.params
        assert registered.variables == spec.variables
    assert tuple(contract.ACTIONS) == strategies.ACTIONS


def test_actions_xsd_declares_every_action_and_parameter_of_the_contract() -> None:
    declared = {e.get("name"): e for e in ACTIONS_XSD.findall(f"{XS}element")}
    assert set(declared) == set(contract.ACTIONS)
    for name, spec in contract.ACTIONS.items():
        inner = {e.get("name"): e for e in _params(declared[name])}
        variables = inner.pop("VARIABLES", None)
        assert set(inner) == {p.name for p in spec.params}, name
        for param in spec.params:
            element = inner[param.name]
            assert (element.get("minOccurs") != "0") == param.required, (name, param.name)
            assert element.get("maxOccurs") in (None, "1"), (name, param.name)
            assert element.get("type") == param.kind.xsd_type, (name, param.name)
        assert (variables is not None) == spec.variables, name
        if variables is not None:
            variable = variables.find(f".//{XS}element[@name='VARIABLE']")
            assert variable.get("maxOccurs") == str(contract.VARIABLES_MAX)
            value = variable.find(f".//{XS}extension")
            assert value.get("base") == contract.VARIABLE_VALUE.xsd_type
            attribute = value.find(f"{XS}attribute[@name='NAME']")
            assert attribute.get("type") == contract.VARIABLE_NAME.xsd_type


KINDS = sorted(
    {p.kind for s in contract.ACTIONS.values() for p in s.params}
    | {contract.VARIABLE_NAME, contract.VARIABLE_VALUE},
    key=lambda k: (k.xsd_type, k.rule),
)


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.xsd_type)
def test_every_kind_states_the_same_rule_as_its_xsd_type(kind: contract.Kind) -> None:
    facets = _facets(ACTIONS_XSD, kind.xsd_type)
    assert facets.get("pattern", []) == ([kind.pattern] if kind.pattern else [])
    assert facets.get("minInclusive") == ([str(kind.low)] if kind.low is not None else None)
    assert facets.get("maxInclusive") == ([str(kind.high)] if kind.high is not None else None)
    assert facets.get("maxLength") == (
        [str(kind.max_length)] if kind.max_length is not None else None
    )
    assert set(facets) <= {"pattern", "minInclusive", "maxInclusive", "maxLength"}


def test_request_xsd_states_the_contracts_envelope_bounds() -> None:
    assert _facets(REQUEST_XSD, "UserKey") == {"pattern": [contract.USERKEY.pattern]}
    assert _facets(REQUEST_XSD, "Name") == {
        "minLength": ["1"],
        "maxLength": [str(contract.NAME_MAX)],
    }
    assert _facets(REQUEST_XSD, "ParameterValue") == {"maxLength": [str(contract.VALUE_MAX)]}
    parameter = REQUEST_XSD.find(f".//{XS}element[@name='PARAMETER']")
    assert parameter.get("maxOccurs") == str(contract.PARAMETERS_MAX)


def test_the_readme_names_every_action() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    sentence = re.search(r"Actions: (.*?)\. ", readme, re.DOTALL)
    assert sentence is not None
    assert re.findall(r"`([A-Z.]+)`", sentence.group(1)) == list(contract.ACTIONS)


def test_the_error_docs_list_every_action_and_parameter_rule() -> None:
    docs = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `([A-Z.]+)` \| (.*) \| (.*) \|$", docs, re.MULTILINE)
    assert [name for name, _, _ in rows] == list(contract.ACTIONS)
    for name, required, optional in rows:
        spec = contract.ACTIONS[name]
        assert re.findall(r"`([A-Z]+)`", required) == list(contract.required(name))
        others = [
            p.name for p in spec.params if not p.required and p.name not in ("TEST", "SIGNATURE")
        ]
        assert re.findall(r"`([A-Z]+)`", optional) == others + (
            ["VARIABLE"] if spec.variables else []
        )
    for spec in contract.ACTIONS.values():
        for param in spec.params:
            assert f"| `{param.name}` | {param.kind.rule} |" in docs, param.name


def test_the_contract_loads_no_third_party_module() -> None:
    code = (
        "import sys; import mock_anveo.contract, mock_anveo.wire.requests; "
        "print(sorted(m for m in ('lxml', 'aiohttp', 'hypothesis') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert out.strip() == "[]"
