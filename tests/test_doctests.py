"""Every docstring example in the package runs, as written (the guide: examples are doctests)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import salesradar

MODULES = sorted(
    m.name for m in pkgutil.walk_packages(salesradar.__path__, "salesradar.")
    if not m.name.endswith("__main__")
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name: str) -> None:
    module = importlib.import_module(name)
    failed, _ = doctest.testmod(
        module, optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS, report=True)
    assert failed == 0, f"{failed} docstring example(s) of {name} failed (see the output)"
