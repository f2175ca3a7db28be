"""Do it, one generator per step: each drives the real panels (raises the dock, reopening it when closed;
types the article's sentence; picks the head; sets the fleet; starts the run), yields a (zh, en) status
while it waits on a worker, and returns (measured, verdict, picture widget). Every measured number is read
from what the driven panel reports (its public methods, or the core function it calls) — never typed here."""

from __future__ import annotations

from core.lesson import steps as S
from gui.panels.lesson.base import Driver, Missing
from gui.panels.lesson.inspect_steps import attention, cloze, cloze_ranking, tags, tokens
from gui.panels.lesson.run_steps import distill, gpt3, h800, training

DRIVERS = {
    "tokens": tokens,
    "tags": tags,
    "cloze": cloze,
    "attention": attention,
    "training": training,
    "gpt3": gpt3,
    "h800": h800,
    "distill": distill,
}
assert tuple(DRIVERS) == S.STEP_IDS

__all__ = ["DRIVERS", "Driver", "Missing", "cloze_ranking"]
