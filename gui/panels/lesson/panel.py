"""The lesson: the article's steps in order, each with its claim, a Do it that drives the real panels, the
measured answer beside the article's figure and a verdict in plain words. Progress is kept in the settings.

Do it runs the step's generator (gui.panels.lesson.drive) from a timer on the GUI thread: each tick is a
quick look at a panel; the slow parts (loading a model, scoring heads, training) are the panels' own
workers. One run per step at a time, and never a second training run (TrainingSession.is_busy())."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QMainWindow,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from core.lesson import steps as S
from core.lesson import verdicts as V
from core.lesson.report import measured_text
from gui import workers
from gui.i18n import language, tr
from gui.panels.lesson import drive
from gui.panels.lesson.game import ClozeGame
from gui.panels.lesson.worksheet import KIND_COLOURS, export, kind_name

TICK_MS = 100
WAIT_S = 120.0  # a step that waits longer than this (plus its training time × 4) gives up and says so
PICTURE_PX = 380  # the grabbed figure's width in the lesson (the worksheet keeps it larger)
MODEL_STEPS = ("tokens", "tags", "cloze", "attention")  # answers that belong to the model loaded now


class LessonPanel(QWidget):
    worksheet_exported = Signal(str)  # the file written
    worksheet_failed = Signal(str)  # one line: why not

    def __init__(self, context=None) -> None:
        super().__init__()
        self.setObjectName("lessonPanel")
        self.context = context
        self._results: dict[str, dict] = {}
        self._pictures: dict[str, QImage] = {}
        self._active: dict[str, tuple[object, float]] = {}  # step id → (generator, deadline)
        self._status: dict[str, tuple[str, str]] = {}
        self._index = 0
        self._build()
        self._timer = QTimer(self, interval=TICK_MS)
        self._timer.timeout.connect(self._tick)
        if context is not None:
            context.model_loaded.connect(self._on_model_loaded)
        self._restore()
        self.retranslate()

    def _build(self) -> None:
        self.list = QListWidget(objectName="lessonSteps")
        self.list.setMaximumWidth(190)
        for _ in S.STEPS:
            self.list.addItem("")
        self.title = QLabel(objectName="lessonTitle")
        self.title.setStyleSheet("font-size: 15pt; font-weight: bold")
        self.section = QLabel(objectName="lessonSection")
        self.section.setStyleSheet("color: #666")
        self.claim = QLabel(objectName="lessonClaim", wordWrap=True)
        self.article = QLabel(objectName="lessonArticle", wordWrap=True)
        self.do_button = QPushButton(objectName="lessonDoIt")
        self.do_button.setStyleSheet("font-weight: bold")
        self.use_recorded = QCheckBox(objectName="lessonUseRecorded")
        self.duration = QLabel(objectName="lessonDuration", wordWrap=True)
        self.duration.setStyleSheet("color: #666")
        self.status = QLabel(objectName="lessonStatus", wordWrap=True)
        self.status.setStyleSheet("color: #666")
        self.measured = QLabel(objectName="lessonMeasured", wordWrap=True)
        self.verdict = QLabel(objectName="lessonVerdict", wordWrap=True)
        self.verdict.setTextFormat(Qt.TextFormat.RichText)
        self.picture = QLabel(objectName="lessonPicture", alignment=Qt.AlignmentFlag.AlignCenter)
        self.game = ClozeGame(self._ranking_for, _seats)
        self.back = QPushButton(objectName="lessonBack")
        self.next = QPushButton(objectName="lessonNext")
        self.export_button = QPushButton(objectName="lessonExport")
        for label in (self.claim, self.article, self.measured, self.verdict):
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        do_row = QHBoxLayout()
        do_row.addWidget(self.do_button)
        do_row.addWidget(self.use_recorded, 1)
        nav = QHBoxLayout()
        for w in (self.back, self.next):
            nav.addWidget(w)
        nav.addStretch(1)
        nav.addWidget(self.export_button)
        self.body = body = QWidget()
        col = QVBoxLayout(body)
        for w in (self.title, self.section, self.claim, self.article):
            col.addWidget(w)
        col.addLayout(do_row)
        col.addWidget(self.duration)
        for w in (self.status, self.measured, self.verdict, self.game, self.picture):
            col.addWidget(w)
        col.addStretch(1)
        col.addLayout(nav)
        split = self._split = QSplitter(Qt.Orientation.Horizontal)
        scroll = QScrollArea(widgetResizable=True, frameShape=QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(body)  # a step with the game and a picture is taller than the dock: it scrolls
        split.addWidget(self.list)
        split.addWidget(scroll)
        split.setStretchFactor(1, 1)
        QVBoxLayout(self).addWidget(split)
        self.list.currentRowChanged.connect(self._on_row_changed)
        self.do_button.clicked.connect(lambda: self.run_step(self.current_step()))
        self.back.clicked.connect(lambda: self.go(self._index - 1))
        self.next.clicked.connect(lambda: self.go(self._index + 1))
        self.export_button.clicked.connect(lambda: self.export_worksheet())
        self.use_recorded.toggled.connect(lambda on: self._save("lesson/use_recorded", bool(on)))

    # --- the contract the tests drive -------------------------------------------------------------
    def steps(self) -> list[str]:
        return list(S.STEP_IDS)

    def result(self, step_id: str) -> dict | None:
        """{"measured", "article", "verdict"} once the step has run (verdict: {kind, zh, en})."""
        r = self._results.get(step_id)
        return None if r is None else {k: r[k] for k in ("measured", "article", "verdict")}

    def is_running(self, step_id: str) -> bool:
        return step_id in self._active

    def run_step(self, step_id: str) -> bool:
        """What Do it does. False when the step is already running (a second click starts nothing)."""
        S.step(step_id)  # KeyError for an unknown step
        self.go(S.STEP_IDS.index(step_id))
        if step_id in self._active:
            return False
        driver = drive.Driver(self._main_window(), self.context, self.use_recorded.isChecked())
        gen = drive.DRIVERS[step_id](driver)
        self._results.pop(step_id, None)
        self._pictures.pop(step_id, None)
        deadline = time.monotonic() + WAIT_S + 4 * S.step(step_id).trains_s
        self._active[step_id] = (gen, deadline)
        self._advance(step_id)  # the docks are raised and the inputs typed now, not on the next tick
        if step_id in self._active:
            self._timer.start()
        self._show_step()
        return True

    def pick(self, word: str):
        """The cloze game: score `word` for the current blank (see ClozeGame.pick)."""
        result = self.game.pick(word)
        self._save("lesson/game", self.game.to_json())
        return result

    # --- running steps ------------------------------------------------------------------------------
    def _tick(self) -> None:
        for step_id in list(self._active):
            self._advance(step_id)
        if not self._active:
            self._timer.stop()

    def _advance(self, step_id: str) -> None:
        gen, deadline = self._active[step_id]
        try:
            if time.monotonic() > deadline:
                gen.close()
                raise drive.Missing(
                    "等得太久，已放弃：再点一次“动手做”。", "Waited too long and gave up: press Do it again."
                )
            self._status[step_id] = next(gen)
        except StopIteration as stop:
            measured, verdict, widget = stop.value
            self._finish(step_id, measured, verdict, widget)
        except drive.Missing as missing:
            self._finish(step_id, {}, V.cannot(missing.zh, missing.en), None)
        except Exception as exc:  # noqa: BLE001 - a step that breaks says so in the lesson, never a traceback
            self._finish(step_id, {}, V.cannot(f"出错：{exc}", f"Failed: {type(exc).__name__}: {exc}"), None)
        else:
            if step_id == self.current_step():
                self._show_step()

    def _finish(self, step_id: str, measured: dict, verdict: V.Verdict, widget: QWidget | None) -> None:
        self._active.pop(step_id, None)
        self._status.pop(step_id, None)
        self._results[step_id] = {
            "measured": measured,
            "article": S.step(step_id).article,
            "verdict": verdict.as_dict(),
        }
        if widget is not None:  # the figure on screen, taken in its own event: a plot's render is the slow part
            QTimer.singleShot(0, self, lambda: self._grab(step_id, widget))
        done = set(self._load_list("lesson/done")) | {step_id}
        self._save("lesson/done", [s for s in S.STEP_IDS if s in done])
        self._show_step()
        self._fill_list()

    def _grab(self, step_id: str, widget: QWidget) -> None:
        if step_id in self._results and step_id not in self._active:  # not re-run meanwhile
            try:
                rect = widget.rect()
                fit = widget.heightForWidth(rect.width()) if widget.hasHeightForWidth() else -1
                if 0 < fit < rect.height():  # token chips: the rows they fill, not the space stretched below
                    rect.setHeight(fit + 4)
                self._pictures[step_id] = widget.grab(rect).toImage()
            except RuntimeError:  # the panel went with its window before the event came
                return
            if step_id == self.current_step():
                self._show_step()

    def _main_window(self) -> QMainWindow | None:
        w = self.parentWidget()
        while w is not None and not isinstance(w, QMainWindow):
            w = w.parentWidget()
        return w

    def _ranking_for(self, prompt: str):
        d = drive.Driver(self._main_window(), self.context)
        p = d.show("clozeDock", "clozePanel")
        if p.model_choice.checkpoint() is None or p.model_choice.is_live():
            raise drive.Missing(
                "填空面板的模型还没准备好，稍等再选。", "The cloze panel's model is not ready yet."
            )
        return drive.cloze_ranking(p, prompt)

    def _on_model_loaded(self, _checkpoint) -> None:
        """A new model: answers that depend on the model are measured again when asked (never kept stale)."""
        for step_id in MODEL_STEPS:
            if step_id in self._results:
                del self._results[step_id]
                self._pictures.pop(step_id, None)
                self._status[step_id] = (
                    "换了模型：再点一次“动手做”，测量现在加载的模型。",
                    "The model changed: press Do it again to measure the model loaded now.",
                )
        self._show_step()

    # --- navigation and settings --------------------------------------------------------------------
    def resizeEvent(self, event) -> None:
        """Narrow (under the training form): the step list goes above the step, which keeps the width."""
        super().resizeEvent(event)
        narrow = self.width() < 560
        self._split.setOrientation(Qt.Orientation.Vertical if narrow else Qt.Orientation.Horizontal)
        self.list.setMaximumWidth(16_777_215 if narrow else 190)
        rows = self.list.sizeHintForRow(0) * self.list.count() + 2 * self.list.frameWidth()
        self.list.setMaximumHeight(rows if narrow else 16_777_215)
        if narrow:
            self._split.setSizes([rows, max(1, self.height() - rows)])

    def current_step(self) -> str:
        return S.STEP_IDS[self._index]

    def go(self, index: int) -> None:
        index = max(0, min(len(S.STEPS) - 1, index))
        if index != self.list.currentRow():
            self.list.setCurrentRow(index)  # → _on_row_changed
        else:
            self._on_row_changed(index)

    def _on_row_changed(self, row: int) -> None:
        if 0 <= row < len(S.STEPS):
            self._index = row
            self._save("lesson/step", S.STEP_IDS[row])
            self._show_step()

    def _save(self, key: str, value) -> None:
        if self.context is not None:
            self.context.settings.setValue(key, value)

    def _load_list(self, key: str) -> list[str]:
        value = self.context.settings.value(key) if self.context is not None else None
        if isinstance(value, str):
            return [value]
        return [str(v) for v in value] if isinstance(value, list) else []

    def _restore(self) -> None:
        if self.context is None:
            self.list.setCurrentRow(0)
            return
        settings = self.context.settings
        step_id = settings.value("lesson/step")
        self.use_recorded.setChecked(str(settings.value("lesson/use_recorded", "false")).lower() == "true")
        self.game.from_json(settings.value("lesson/game") or "")
        self.list.setCurrentRow(S.STEP_IDS.index(step_id) if step_id in S.STEP_IDS else 0)

    # --- what is on screen --------------------------------------------------------------------------
    def _fill_list(self) -> None:
        done = set(self._load_list("lesson/done"))
        for i, step in enumerate(S.STEPS):
            mark = " ✓" if step.id in done else ""
            self.list.item(i).setText(f"{i + 1}. {tr(step.title_zh, step.title_en)}{mark}")

    def _show_step(self) -> None:
        step = S.STEPS[self._index]
        lang = language()
        self.title.setText(f"{self._index + 1}. {tr(step.title_zh, step.title_en)}")
        self.section.setText(tr("文章 ", "Article ") + step.section)
        self.claim.setText(tr(step.claim_zh, step.claim_en))
        self.article.setText(tr("文章的数字：", "The article says: ") + tr(step.article_zh, step.article_en))
        running = step.id in self._active
        self.do_button.setEnabled(not running)
        self.do_button.setText(tr("正在做…", "Working…") if running else tr("动手做", "Do it"))
        self.use_recorded.setVisible(step.trains_s > 0)
        self.duration.setVisible(step.trains_s > 0)
        self.use_recorded.setText(tr("用记录的结果", "Use the recorded result"))
        self.duration.setText(
            tr(
                f"{step.trains_zh}；勾选后直接用记录下来的结果，不用等。",
                f"{step.trains_en}; ticked, the step uses the recorded result, with no wait.",
            )
        )
        status = self._status.get(step.id)
        self.status.setText(tr(*status) if status else "")
        self.game.setVisible(step.id == "cloze")
        result = self._results.get(step.id)
        if result is None:
            self.measured.setText("")
            self.verdict.setText("" if running else tr("还没做：点“动手做”。", "Not done yet: press Do it."))
            self.picture.clear()
        else:
            v = result["verdict"]
            text = measured_text(step.id, result["measured"], lang)
            self.measured.setText(tr("测得：", "Measured: ") + text if text else "")
            colour = KIND_COLOURS.get(v["kind"], "#000")
            self.verdict.setText(
                f"<b style='color:{colour}'>{kind_name(v['kind'], lang)}</b> — {v[lang]}".replace("\n", "<br>")
            )
            image = self._pictures.get(step.id)
            self.picture.setPixmap(
                QPixmap.fromImage(image).scaledToWidth(
                    min(480, image.width()), Qt.TransformationMode.SmoothTransformation
                )
                if image is not None and not image.isNull()
                else QPixmap()
            )
        self.back.setEnabled(self._index > 0)
        self.next.setEnabled(self._index < len(S.STEPS) - 1)

    def retranslate(self) -> None:
        self.back.setText(tr("← 上一步", "← Back"))
        self.next.setText(tr("下一步 →", "Next →"))
        self.export_button.setText(tr("导出练习单…", "Export worksheet…"))
        self._fill_list()
        self.game.retranslate()
        self._show_step()

    def picture_of(self, step_id: str) -> QImage | None:
        """The figure grabbed from the driven panel when the step ran."""
        return self._pictures.get(step_id)

    def export_worksheet(self, path: str | None = None, lang: str | None = None) -> bool:
        """Write one HTML or PDF file with every step (done or not) in a worker; the pictures are the ones
        grabbed on screen. `worksheet_exported(path)` follows; a failure is posted to the status bar."""
        path = (
            path
            or QFileDialog.getSaveFileName(
                self, tr("导出练习单", "Export worksheet"), "worksheet.pdf", "PDF (*.pdf);;HTML (*.html)"
            )[0]
        )
        if not path:
            return False
        entries = [(s, self.result(s.id), self._copy_picture(s.id)) for s in S.STEPS]
        lang = lang or language()

        def write() -> str:
            export(path, entries, lang)
            return path

        self.export_button.setEnabled(False)
        workers.call_in_worker(write, self._on_exported, self._on_export_failed, owner=self)
        return True

    def _copy_picture(self, step_id: str) -> QImage | None:
        image = self._pictures.get(step_id)
        return image.copy() if image is not None else None  # the worker gets its own copy

    def _on_exported(self, path: str) -> None:
        self.export_button.setEnabled(True)
        if self.context is not None:
            self.context.post(tr("练习单已导出：", "Worksheet exported: ") + path)
        self.worksheet_exported.emit(path)

    def _on_export_failed(self, message: str) -> None:
        self.export_button.setEnabled(True)
        if self.context is not None:
            self.context.post(tr("无法导出练习单：", "Cannot export the worksheet: ") + message)
        self.worksheet_failed.emit(message)


def _seats() -> list[str]:
    from core.data.world import SEATS

    return [s[0] for s in SEATS]
