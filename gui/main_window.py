"""The main window: docks built from the panel registry, menus, status bar, settings. Deliberately thin —
training lives in the session, plotting in the panels; this file only wires them together."""

from __future__ import annotations

import os
import shutil

from PySide6.QtCore import QByteArray, Qt, QTimer
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QWidget,
)

from gui import i18n, workers
from gui.close_guard import CloseGuard
from gui.context import AppContext
from gui.i18n import tr
from gui.panels import PANELS, PanelSpec
from gui.widgets.dock_scroll import DockScroll
from gui.widgets.throttle import paint_ahead

AREAS = {
    "left": Qt.DockWidgetArea.LeftDockWidgetArea,
    "right": Qt.DockWidgetArea.RightDockWidgetArea,
    "top": Qt.DockWidgetArea.TopDockWidgetArea,
    "bottom": Qt.DockWidgetArea.BottomDockWidgetArea,
}
STATE_VERSION = 2  # bump when dock ids change so an old saved layout is ignored (2: lessonDock first)
# The analysis views, as tabs that share most of the window: what the article is about comes first.
TAB_ORDER = ("attentionDock", "clozeDock", "embeddingDock", "distillDock", "costDock", "tokenizerDock")
# Under the form, the loss curve and the lesson share one tab group, the lesson in front: its Do it raises
# the analysis tabs on the right and the form above, so it stays in view while it drives them.
LEFT_TABS = ("lossDock", "lessonDock")
LEFT_WIDTH = 0.3  # share of the window's width for the training form and the loss curve


class MainWindow(QMainWindow):
    """One QDockWidget per PanelSpec; every visible string re-applied in `retranslate()`."""

    def __init__(self, context: AppContext, specs: list[PanelSpec] | None = None) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.context = context
        self.docks: dict[str, QDockWidget] = {}
        self.panels: dict[str, QWidget] = {}
        self._specs = list(PANELS if specs is None else specs)
        self._closed = False
        self._shown_once = False
        self._default_layout = False
        context.expect_engine()  # before the panels: Train is built in its loading state
        self._close_guard = CloseGuard(self, context.session, self._on_message_posted)
        self._failure_shown = ""
        self.setDockNestingEnabled(True)
        self.setCentralWidget(None)
        self._build_menus()
        for spec in self._specs:
            self._add_dock(spec)
        self._arrange_docks()
        train_button = self.findChild(QPushButton, "trainButton")
        if train_button is not None and "lossDock" in self.docks:
            # Train means "let me watch it learn": the loss curve comes to the front of its tab group, on the
            # press, so its first paint is done before the run starts computing.
            train_button.pressed.connect(self.docks["lossDock"].raise_)
        self._state_label = QLabel()
        self.statusBar().addPermanentWidget(self._state_label)
        context.message_posted.connect(self._on_message_posted)
        context.session.state_changed.connect(self._on_state_changed)
        context.session.run_failed.connect(self._on_run_failed)
        context.session.run_started.connect(self._on_run_started)
        context.model_loaded.connect(self._on_model_loaded)
        i18n.on_language_changed(self.retranslate)
        self.retranslate()
        self.restore_settings()  # after every dock exists, or restoreState cannot place them

    # --- building -------------------------------------------------------------------------------------
    def _add_dock(self, spec: PanelSpec) -> None:
        """Left: docks stacked top to bottom (the form, then the loss curve). Every other area: one tab group,
        so each analysis view gets the whole of it; `TAB_ORDER` first, the rest in registry order."""
        dock = QDockWidget(self)
        dock.setObjectName(spec.id)
        try:
            panel = spec.load()(self.context)
        except Exception as exc:  # a broken panel must not take the window down with it
            panel = QLabel(f"{spec.id}: {type(exc).__name__}: {exc}")
            panel.setWordWrap(True)
        dock.setWidget(DockScroll(panel))  # a tall panel scrolls; the window never outgrows the screen
        area = AREAS.get(spec.area, AREAS["right"])
        self.addDockWidget(area, dock)
        self.docks[spec.id] = dock
        self.panels[spec.id] = panel
        self.view_menu.addAction(dock.toggleViewAction())

    def _arrange_docks(self) -> None:
        """The first-launch layout (a saved one replaces it in restore_settings)."""
        by_area: dict[Qt.DockWidgetArea, list[QDockWidget]] = {}
        for dock in self.docks.values():
            by_area.setdefault(self.dockWidgetArea(dock), []).append(dock)
        for area, docks in by_area.items():
            if area == AREAS["left"]:
                tabs = [self.docks[k] for k in LEFT_TABS if self.docks.get(k) in docks]
                column = [d for d in docks if d not in tabs] + tabs[:1]
                for upper, lower in zip(column, column[1:], strict=False):
                    self.splitDockWidget(upper, lower, Qt.Orientation.Vertical)
                for dock in tabs[1:]:
                    self.tabifyDockWidget(tabs[0], dock)
                if tabs:
                    tabs[-1].raise_()
                continue
            rank = {name: i for i, name in enumerate(TAB_ORDER)}
            docks.sort(key=lambda d: rank.get(d.objectName(), len(rank)))
            for dock in docks[1:]:
                self.tabifyDockWidget(docks[0], dock)
            docks[0].raise_()

    def _action(self, menu, slot, shortcut=None, role=None) -> QAction:
        action = QAction(self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if role is not None:
            action.setMenuRole(role)
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        self.file_menu = bar.addMenu("")
        self.open_ckpt_action = self._action(
            self.file_menu, lambda: self.open_checkpoint(), QKeySequence.StandardKey.Open
        )
        self.save_ckpt_action = self._action(
            self.file_menu, lambda: self.save_checkpoint(), QKeySequence.StandardKey.Save
        )
        self.open_run_action = self._action(self.file_menu, lambda: self.open_run_folder(), "Ctrl+Shift+O")
        self.export_action = self._action(self.file_menu, lambda: self.export_image(), "Ctrl+E")
        self.file_menu.addSeparator()
        self.quit_action = self._action(
            self.file_menu, self.close, QKeySequence.StandardKey.Quit, QAction.MenuRole.QuitRole
        )
        self.view_menu = bar.addMenu("")
        self.language_menu = bar.addMenu("")
        group = QActionGroup(self)
        self.language_actions = {}
        for lang, label in (("zh", "中文"), ("en", "English")):
            action = QAction(label, self, checkable=True, checked=i18n.language() == lang)
            action.triggered.connect(lambda _=False, lang=lang: self.set_language(lang))
            group.addAction(action)
            self.language_menu.addAction(action)
            self.language_actions[lang] = action
        self.help_menu = bar.addMenu("")
        self.about_action = self._action(self.help_menu, self.show_about, None, QAction.MenuRole.AboutRole)

    def retranslate(self) -> None:
        self.setWindowTitle(tr("大模型探索器", "LLM Explorer"))
        self.file_menu.setTitle(tr("文件(&F)", "&File"))
        self.open_ckpt_action.setText(tr("打开模型检查点…", "Open checkpoint…"))
        self.save_ckpt_action.setText(tr("保存检查点…", "Save checkpoint…"))
        self.open_run_action.setText(tr("打开运行目录…", "Open run folder…"))
        self.export_action.setText(tr("导出窗口截图…", "Export window image…"))
        self.quit_action.setText(tr("退出", "Quit"))
        self.view_menu.setTitle(tr("视图(&V)", "&View"))
        self.language_menu.setTitle(tr("语言(&L)", "&Language"))
        self.help_menu.setTitle(tr("帮助(&H)", "&Help"))
        self.about_action.setText(tr("关于", "About"))
        for spec in self._specs:
            self.docks[spec.id].setWindowTitle(tr(spec.title_zh, spec.title_en))
            retranslate = getattr(self.panels[spec.id], "retranslate", None)
            if callable(retranslate):
                retranslate()
        self._on_state_changed(self.context.session.state)

    def set_language(self, lang: str) -> None:
        """Live switch; remembered for the next start."""
        self.language_actions[lang].setChecked(True)
        self.context.settings.setValue("language", lang)
        i18n.set_language(lang)

    # --- file menu --------------------------------------------------------------------------------------
    def open_checkpoint(self, path: str | None = None) -> None:
        path = (
            path
            or QFileDialog.getOpenFileName(
                self,
                tr("打开模型检查点", "Open checkpoint"),
                "",
                tr("模型 (*.safetensors *.json)", "Model (*.safetensors *.json)"),
            )[0]
        )
        if path:
            self.statusBar().showMessage(tr("正在加载 ", "Loading ") + os.path.basename(path))
            self.context.load_checkpoint(path)

    def save_checkpoint(self, folder: str | None = None) -> bool:
        """Copy the last run's checkpoint files (weights + JSON) into a folder the user picks."""
        source = self.context.session.checkpoint_path
        if not source or not os.path.isfile(source):
            self._on_message_posted(
                tr("还没有可保存的检查点：先训练一次。", "No checkpoint yet: train a model first.")
            )
            return False
        folder = folder or QFileDialog.getExistingDirectory(self, tr("保存到文件夹", "Save into folder"))
        if not folder:
            return False
        stem = os.path.splitext(source)[0]
        try:
            os.makedirs(folder, exist_ok=True)
            for suffix in (".safetensors", ".json"):
                if os.path.isfile(stem + suffix):
                    shutil.copy2(stem + suffix, os.path.join(folder, "model" + suffix))
        except OSError as exc:
            self._on_message_posted(f"{type(exc).__name__}: {exc}")
            return False
        self.statusBar().showMessage(tr("已保存到 ", "Saved to ") + folder, 5000)
        return True

    def open_run_folder(self, folder: str | None = None) -> None:
        folder = folder or QFileDialog.getExistingDirectory(self, tr("打开运行目录", "Open run folder"))
        if folder:
            self.context.session.open_run_folder(folder, on_error=self._on_message_posted)

    def export_image(self, path: str | None = None) -> bool:
        path = (
            path
            or QFileDialog.getSaveFileName(
                self, tr("导出窗口截图", "Export window image"), "llm-explorer.png", "PNG (*.png)"
            )[0]
        )
        return bool(path) and self.grab().save(path)

    def show_about(self) -> QMessageBox:
        import PySide6

        from core import __version__

        torch_version = _torch_version()
        box = QMessageBox(
            QMessageBox.Icon.Information,
            tr("关于大模型探索器", "About LLM Explorer"),
            f"{tr('大模型探索器', 'LLM Explorer')} {__version__}\n"
            f"Qt {PySide6.__version__} · torch {torch_version}",
            parent=self,
        )
        box.setObjectName("aboutBox")
        box.open()  # non-modal: never blocks the event loop (or a test)
        return box

    # --- status -------------------------------------------------------------------------------------------
    def _on_message_posted(self, message: str) -> None:
        self.statusBar().showMessage(message, 15000)

    def _on_run_failed(self, event) -> None:
        self._failure_shown = tr("训练失败：", "Run failed: ") + event.message
        self._on_message_posted(self._failure_shown)

    def _on_run_started(self, _event) -> None:
        """A new run: the last one's failure is no longer news."""
        if self._failure_shown and self.statusBar().currentMessage() == self._failure_shown:
            self.statusBar().clearMessage()
        self._failure_shown = ""

    def _on_state_changed(self, state: str) -> None:
        names = {
            "idle": tr("空闲", "idle"),
            "running": tr("训练中…", "training…"),
            "paused": tr("已暂停", "paused"),
        }
        self._state_label.setText(names.get(state, state))

    def _on_model_loaded(self, checkpoint) -> None:
        path = getattr(checkpoint, "path", "") or ""
        stem = os.path.splitext(os.path.basename(path))[0]
        name = stem if stem not in ("", "model") else os.path.basename(os.path.dirname(path)) or "model"
        if getattr(checkpoint, "recovered", ""):  # the newest save was interrupted: say which one this is
            step = (getattr(checkpoint, "meta", None) or {}).get("step", "?")
            self._on_message_posted(
                tr(
                    f"最近一次保存被中断，已加载它之前的检查点（第 {step} 步）：{name}",
                    f"The last save was interrupted; loaded the checkpoint before it (step {step}): {name}",
                )
            )
            return
        self.statusBar().showMessage(tr("已加载模型 ", "Model loaded: ") + name, 5000)

    # --- settings and lifetime ------------------------------------------------------------------------------
    def restore_settings(self) -> None:
        settings = self.context.settings
        geometry = settings.value("window/geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        else:
            self.resize(1400, 860)
            self._default_layout = True
        state = settings.value("window/state")
        if isinstance(state, QByteArray):
            self.restoreState(state, STATE_VERSION)

    def save_settings(self) -> None:
        settings = self.context.settings
        settings.setValue("window/geometry", self.saveGeometry())
        settings.setValue("window/state", self.saveState(STATE_VERSION))
        settings.setValue("language", i18n.language())
        settings.sync()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._shown_once:
            self._shown_once = True
            if self._default_layout:
                QTimer.singleShot(0, self._fit_default_layout)
            workers.after_startup(self, self._load_engine)  # torch: in a worker, once the window is painted

    def _fit_default_layout(self) -> None:
        """The left column gets LEFT_WIDTH of the window (at least what the form needs); in it the form keeps
        its own height and the loss curve takes the rest. The tab group on the right gets everything else."""
        left = [d for d in self.docks.values() if self.dockWidgetArea(d) == AREAS["left"] and d.isVisible()]
        if not left:
            return
        form = (self.docks.get("trainingDock") or left[0]).widget().widget()  # the top group's tallest need
        need_width = form.sizeHint().width() + 24  # the scroll area's frame and a scroll bar's width
        width = min(max(int(self.width() * LEFT_WIDTH), need_width), self.width() // 2)
        others = [d for d in self.docks.values() if d not in left and d.isVisible()]
        # Both sides at once: with no central widget, resizing the left column alone is not applied.
        self.resizeDocks(left[:1] + others[:1], [width, self.width() - width], Qt.Orientation.Horizontal)
        tabs = [self.docks[k] for k in LEFT_TABS if self.docks.get(k) in left]
        column = [d for d in left if d not in tabs] + tabs[-1:]  # the form, then the front tab under it
        if len(column) > 1:
            # the dock's title bar, and two more lines: after a run the probe read-out holds three
            need = form.sizeHint().height() + 30 + 2 * form.fontMetrics().lineSpacing()
            total = sum(d.height() for d in column)
            heights = [need] + [max(1, (total - need) // (len(column) - 1))] * (len(column) - 1)
            self.resizeDocks(column, heights, Qt.Orientation.Vertical)

    def _load_engine(self) -> None:
        """The engine, then the bundled model, while Train still says "loading" (see AppContext)."""
        if not self._closed:
            if "lossDock" in self.docks:
                paint_ahead(self.docks["lossDock"])  # the Train press raises it (see __init__)
            launch = self.context.bundled_model() if self.context.current_model is None else None
            self.context.load_engine(launch)

    def closeEvent(self, event) -> None:
        """Mid-run, ask first (see CloseGuard); then stop, wait a bounded time, save the layout."""
        if self._close_guard.holds(asking_allowed=not self._closed):
            event.ignore()
            return
        if not self._closed:
            self._closed = True
            self._close_guard.stop()
            if not self.context.session.shutdown(timeout_s=3.0):
                self._on_message_posted(tr("训练线程未能及时结束", "the training thread did not end in time"))
            self.save_settings()
            i18n.forget_listener(self.retranslate)
        super().closeEvent(event)

    @property
    def close_box(self) -> QMessageBox | None:
        """The question asked on closing mid-run, once asked."""
        return self._close_guard.box


def _torch_version() -> str:
    import sys

    torch = sys.modules.get("torch")
    if torch is None:
        import importlib.metadata

        try:
            return importlib.metadata.version("torch")
        except importlib.metadata.PackageNotFoundError:
            return "–"
    return torch.__version__
