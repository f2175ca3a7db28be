"""Closing the window mid-run asks first: stop and save, discard, or cancel. Never `exec()`: the question is
window-modal, and the event loop and the run go on while it is open."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtWidgets import QMainWindow, QMessageBox

from gui.i18n import tr

SAVE_TIMEOUT_MS = 60_000  # "stop and save" waits this long for the final save before closing anyway


class CloseGuard(QObject):
    """Holds a close while a run is busy. "Stop and save" lets the run end as the Stop button does (final
    scores, checkpoint, end record) and closes once the session is idle; "discard" closes at once (the run is
    abandoned at its next event, and its last periodic checkpoint stays)."""

    def __init__(self, window: QMainWindow, session, post_message: Callable[[str], None]) -> None:
        super().__init__(window)
        self._window = window
        self._session = session
        self._post = post_message
        self.choice: str | None = None  # "save" or "discard", once asked
        self.box: QMessageBox | None = None
        self._timer = QTimer(self, singleShot=True, interval=SAVE_TIMEOUT_MS)
        self._timer.timeout.connect(self._give_up_saving)

    def holds(self, asking_allowed: bool) -> bool:
        """True when the close must wait; asks the question the first time a busy run meets a close."""
        busy = self._session.is_busy()
        if asking_allowed and busy and self.choice is None:
            self._ask()
            return True
        return self.choice == "save" and busy  # closes when the run has ended

    def stop(self) -> None:
        self._timer.stop()

    def _ask(self) -> None:
        box = QMessageBox(
            QMessageBox.Icon.Question,
            tr("训练还在进行", "A run is in progress"),
            tr(
                "关闭前要停止并保存这次训练吗？放弃则只保留最近一次定期保存的检查点。",
                "Stop the run and save it before closing? Discarding keeps only its last periodic checkpoint.",
            ),
            parent=self._window,
        )
        box.setObjectName("closeMidRunBox")
        save = box.addButton(tr("停止并保存", "Stop and save"), QMessageBox.ButtonRole.AcceptRole)
        discard = box.addButton(tr("放弃", "Discard"), QMessageBox.ButtonRole.DestructiveRole)
        cancel = box.addButton(tr("取消", "Cancel"), QMessageBox.ButtonRole.RejectRole)
        save.setObjectName("closeSaveButton")
        discard.setObjectName("closeDiscardButton")
        cancel.setObjectName("closeCancelButton")
        box.setDefaultButton(save)
        box.setEscapeButton(cancel)
        box.setWindowModality(Qt.WindowModality.WindowModal)

        def answered(button) -> None:
            if button is save:
                self.choice = "save"
                self._session.state_changed.connect(self._close_when_idle)
                self._session.stop()
                self._post(tr("正在停止并保存…", "Stopping and saving…"))
                self._timer.start()
            elif button is discard:
                self.choice = "discard"
                self._window.close()

        box.buttonClicked.connect(answered)
        box.open()
        self.box = box

    def _close_when_idle(self, state: str) -> None:
        if state == "idle" and self.choice == "save":
            QTimer.singleShot(0, self._window.close)

    def _give_up_saving(self) -> None:
        """The final evaluation and save did not end in time: close anyway (the run is abandoned)."""
        self.choice = "discard"
        self._window.close()
