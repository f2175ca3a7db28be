"""Fixtures shared by the core and GUI tests (no Qt here: core tests must run without it)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def causal():
    """The bundled causal model, loaded once for every test that inspects it."""
    from core.cli.train import load_model

    return load_model(None, "default")


@pytest.fixture(scope="session")
def masked():
    """The bundled fill-in-the-blank (masked) model."""
    from core.cli.train import load_model

    return load_model(None, "cloze")
