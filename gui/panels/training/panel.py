"""Training panel: pick a preset, adjust it, train, and read the run's speed, cost and probe scores live.

The form (gui.panels.training.form) builds validated configs; this panel starts, pauses and stops the run
through `context.session` and shows what the events say. Nothing here blocks: the run is in a worker."""

from __future__ import annotations

import os
import time

from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from core.config import ConfigError
from core.cost.flops import a100_seconds
from core.events import Done, Eval, Failed, Started, Step
from core.units import format_duration, si
from gui.i18n import chance_note, tr
from gui.panels.training.form import FIRST_PRESET, TrainForm
from gui.widgets.throttle import Throttled

READOUTS = ("step", "speed", "flops", "a100", "probes")


class TrainingPanel(QWidget):
    """Form + buttons + read-outs; talks to the engine only through `context.session`."""

    def __init__(self, context=None) -> None:
        super().__init__()
        self.setObjectName("trainingPanel")
        self.context = context
        self.session = context.session if context is not None else None
        self._total_steps = 0
        self._stopping = False
        self._show_step = Throttled(self, 250, self._render_step)
        self._shown: dict[
            str, object
        ] = {}  # the last Step / Eval / end event, to re-render on a language switch
        last = context.settings.value("training/preset", FIRST_PRESET) if context is not None else None
        self.form = TrainForm(str(last or FIRST_PRESET))
        self.message = QLabel(objectName="trainingMessage", wordWrap=True)
        self.message.setStyleSheet("color: #b3261e")
        self.train_button = QPushButton(objectName="trainButton")
        self.pause_button = QPushButton(objectName="pauseButton")
        self.stop_button = QPushButton(objectName="stopButton")
        self.progress = QProgressBar(objectName="trainProgress", minimum=0, maximum=1000)
        self.progress.setValue(0)
        buttons = QHBoxLayout()
        for button in (self.train_button, self.pause_button, self.stop_button):
            buttons.addWidget(button)
        self._names: dict[str, QLabel] = {}
        self._values: dict[str, QLabel] = {}
        readouts = QGridLayout()
        for row, key in enumerate(READOUTS):
            self._names[key] = QLabel()
            self._values[key] = QLabel("–", objectName=f"{key}Readout", wordWrap=True)
            readouts.addWidget(self._names[key], row, 0)
            readouts.addWidget(self._values[key], row, 1)
        readouts.setColumnStretch(1, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.form)
        layout.addWidget(self.message)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addLayout(readouts)
        layout.addStretch(1)

        self.train_button.clicked.connect(self.start_training)
        self.pause_button.clicked.connect(self._on_pause_clicked)
        self.stop_button.clicked.connect(self._on_stop_clicked)
        if context is not None:
            self.form.preset_chosen.connect(lambda name: context.settings.setValue("training/preset", name))
            self.session.run_started.connect(self._on_run_started)
            self.session.preparing.connect(self._on_preparing)
            self.session.step_logged.connect(self._on_step_logged)
            self.session.evaluated.connect(self._on_evaluated)
            self.session.run_finished.connect(self._on_run_finished)
            self.session.run_failed.connect(self._on_run_failed)
            self.session.state_changed.connect(self._on_state_changed)
            if hasattr(context, "engine_ready"):
                context.engine_ready.connect(lambda: self._on_state_changed(self._state()))
        self._on_state_changed(self._state())

    def retranslate(self) -> None:
        self.form.retranslate()
        names = {
            "step": tr("步数", "Step"),
            "speed": tr("速度", "Speed"),
            "flops": tr("已用算力", "FLOPs so far"),
            "a100": tr("换成 A100", "On an A100"),
            "probes": tr("探针", "Probes"),
        }
        for key, text in names.items():
            self._names[key].setText(text)
        self.train_button.setText(
            tr("正在加载训练引擎…", "Loading the engine…") if self._engine_loading() else tr("训练", "Train")
        )
        self.pause_button.setText(tr("继续", "Resume") if self._state() == "paused" else tr("暂停", "Pause"))
        self.stop_button.setText(tr("正在停止…", "Stopping…") if self._stopping else tr("停止", "Stop"))
        for event in self._shown.values():  # read-outs written in the old language are re-written
            self._show(event)

    def _show(self, event) -> None:
        handler = {
            Step: self._render_step,
            Eval: self._on_evaluated,
            Done: self._on_run_finished,
            Failed: self._on_run_failed,
        }[type(event)]
        handler(event)

    def _engine_loading(self) -> bool:
        """The window imports torch once after its first paint; Train waits for it (a visible state)."""
        return bool(getattr(self.context, "engine_loading", False))

    def _state(self) -> str:
        return self.session.state if self.session is not None else "idle"

    def configs(self):
        return self.form.configs()

    def start_training(self) -> None:
        if self.session is None or self.session.is_busy() or self._engine_loading():
            return
        try:
            model, train = self.form.configs()
            corpus_path = self.form.corpus_path()
        except ConfigError as exc:
            self.message.setText(str(exc))
            return
        from gui.context import runs_root

        preset = self.form.preset()
        now = time.time()
        stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now)) + f"-{int(now * 1000) % 1000:03d}"
        out_dir = os.path.join(runs_root(), f"{preset}-{stamp}")
        self.message.clear()
        self.session.start(model, train, corpus_path=corpus_path, out_dir=out_dir, preset=preset)

    # --- the run ------------------------------------------------------------------------------------
    def _on_pause_clicked(self) -> None:
        if self._state() == "paused":
            self.session.resume()
        else:
            self.session.pause()

    def _on_stop_clicked(self) -> None:
        """The engine stops after the current step; its final evaluation and save may take a moment."""
        self._stopping = True
        self.session.stop()
        self._on_state_changed(self._state())

    def _on_state_changed(self, state: str) -> None:
        if state == "idle":
            self._stopping = False
        running = state != "idle"
        self.train_button.setEnabled(not running and not self._engine_loading())
        self.pause_button.setEnabled(running and not self._stopping)
        self.stop_button.setEnabled(running and not self._stopping)
        self.form.set_locked(running)
        self.retranslate()

    def _on_preparing(self, event) -> None:
        """A large text is being tokenized: say so on the bar, so the wait is not a silent one."""
        self.message.clear()
        stages = {
            "tokenizer": tr("训练分词器", "training the tokenizer"),
            "encoding": tr("切分文本", "encoding"),
        }
        share = f" {event.done / event.total:.0%}" if event.total and event.stage == "encoding" else ""
        self.progress.setValue(0)
        self.progress.setFormat(f"{tr('准备中', 'Preparing')}: {stages.get(event.stage, event.stage)}{share}")

    def _on_run_started(self, event: Started) -> None:
        self.message.clear()  # a new run: the last one's failure must not outlive it
        self._total_steps = event.total_steps
        self.progress.setValue(0)
        self.progress.setFormat("%p%")
        self._values["probes"].setText("–")
        self._shown.clear()

    def _on_step_logged(self, event: Step) -> None:
        self._show_step(event)  # at most 4 times a second: each change repaints the bar and re-lays out labels

    def _render_step(self, event: Step) -> None:
        self._shown["step"] = event
        p = min(1.0, max(0.0, event.progress))
        self.progress.setValue(int(1000 * p))
        eta = event.elapsed_s * (1 - p) / p if p > 0 else float("nan")
        self.progress.setFormat(f"%p% · {tr('剩余', 'ETA')} {format_duration(eta)}")
        total = f" / {self._total_steps}" if self._total_steps else ""
        self._values["step"].setText(f"{event.step}{total} · {tr('损失', 'loss')} {event.loss:.3f}")
        self._values["speed"].setText(f"{si(event.tokens_per_s)} tokens/s")
        self._values["flops"].setText(f"{si(event.flops)}FLOPs")
        a100 = format_duration(a100_seconds(event.flops))
        self._values["a100"].setText(
            tr(f"≈ {a100}（一张 A100，40 % MFU）", f"≈ {a100} on one A100 at 40 % MFU")
        )

    def _on_evaluated(self, event: Eval) -> None:
        self._shown["eval"] = event
        m = event.metrics
        parts = [f"{tr('验证损失', 'val loss')} {event.val_loss:.3f}"]
        if "coref_acc" in m:
            note = chance_note(m.get("coref_chance"))
            parts.append(f"{tr('指代准确率', 'coreference')} {m['coref_acc']:.2f}{note}")
        if "neighbor_purity" in m:
            note = chance_note(m.get("neighbor_chance"))
            parts.append(f"{tr('近邻纯度', 'neighbour purity')} {m['neighbor_purity']:.2f}{note}")
        self._values["probes"].setText("\n".join(parts))

    def _on_run_finished(self, event: Done) -> None:
        self._show_step.flush()
        self._shown["end"] = event
        if event.reason != "stopped":
            self.progress.setValue(1000)
        reasons = {
            "stopped": tr("已停止", "stopped"),
            "finished": tr("完成", "finished"),
            "time": tr("时间到", "time is up"),
        }
        self.progress.setFormat(f"%p% · {reasons.get(event.reason, event.reason)}")

    def _on_run_failed(self, event: Failed) -> None:
        self._show_step.flush()
        self._shown["end"] = event
        self.progress.setFormat(f"%p% · {tr('失败', 'failed')}")
        self.message.setText(tr("训练失败：", "Training failed: ") + event.message)
