"""What every Do it may touch: the main window's docks and panels, the shared context, the lesson's options;
and `Missing`, raised when a part of the app a step needs is absent, so the step says which."""

from __future__ import annotations

from collections.abc import Iterator

from PySide6.QtWidgets import QDockWidget, QWidget

Status = tuple[str, str]


class Missing(Exception):
    """A part of the app the step needs is not in this build (or not ready): the message says which."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(en)
        self.zh, self.en = zh, en


class Driver:
    """What a step may touch: the main window's docks and panels, the shared context, lesson options."""

    def __init__(self, window, context, use_recorded: bool = False) -> None:
        self.window, self.context, self.use_recorded = window, context, use_recorded

    def show(self, dock_id: str, panel_name: str, needs: tuple[str, ...] = ()) -> QWidget:
        """Raise the dock (show() reopens a closed one) and return its panel, with the methods it needs."""
        dock = self.window.findChild(QDockWidget, dock_id) if self.window is not None else None
        panel = self.window.findChild(QWidget, panel_name) if dock is not None else None
        if dock is None or panel is None:
            raise Missing(
                f"需要界面中的 {dock_id}（面板 {panel_name}），当前版本没有。",
                f"Needs the {dock_id} dock (panel {panel_name}), which this build does not have.",
            )
        lacking = [n for n in needs if not callable(getattr(panel, n, None))]
        if lacking:
            names = ", ".join(f"{panel_name}.{n}()" for n in lacking)
            raise Missing(
                f"需要 {names}，当前版本的面板还没有。", f"Needs {names}, which this build's panel lacks."
            )
        dock.show()
        dock.raise_()
        return panel


def wait_for_model(choice) -> Iterator[Status]:
    """Until the panel's model switch has a loaded checkpoint (the bundled one loads in a worker)."""
    while choice.checkpoint() is None or choice.is_live() or not choice.announced():
        if choice.is_live():
            yield (
                "训练进行中：等这次训练结束再做这一步。",
                "A run is training: this step waits for it to end.",
            )
        else:
            yield ("正在加载模型…", "Loading the model…")
