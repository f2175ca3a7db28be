"""What every screenshot script needs first: Qt without a screen, the project importable, and a way to let
the event loop run until something is ready (`from offscreen import ROOT, wait` before importing Qt)."""

from __future__ import annotations

import os
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def wait(app, seconds: float, until=None) -> None:
    """Process events for up to `seconds`, or until `until()` is true."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not (until and until()):
        app.processEvents()
        time.sleep(0.02)
