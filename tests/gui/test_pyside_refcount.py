"""Guards the PySide6 < 6.12 bound: 6.12.0 on Python 3.11 drops a reference to None on every void call,
which eventually aborts the process. Cheap void calls must leave None's refcount where it was."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QWidget


def test_void_calls_do_not_leak_references_to_none(qtbot):
    widget = QWidget()
    qtbot.addWidget(widget)
    widget.setEnabled(True)  # warm up any lazily created bindings
    before = sys.getrefcount(None)
    for _ in range(10_000):
        widget.setEnabled(True)
    after = sys.getrefcount(None)
    assert abs(after - before) < 100, (before, after)
