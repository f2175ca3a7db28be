"""The distillation lab (`distillPanel`): settings, one button that races a taught student against the same
student alone, both live on `distillPlot`, the verdict table at the end, and the soft-label view.

The race runs in an EventWorker (gui/workers.py); its events are copies. At launch the race recorded with
the app (resources/models/race/, built by scripts/build_models.py) is read in a worker and shown, so the
verdict is on screen before anything has run. The lesson panel uses `verdict()`, `start_race()` and
`soft_labels()`."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, replace

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from core import resources
from core.config import PRESETS, ConfigError, ModelConfig
from core.distill.config import DistillConfig
from core.events import Done, Eval, Failed, Started, Step
from gui import workers
from gui.i18n import tr
from gui.panels.distill.plot import RacePlot
from gui.panels.distill.soft import ARTICLE_TEXT, SoftLabelView
from gui.panels.distill.verdict import VerdictView
from gui.widgets.model_choice import inference_threads
from gui.widgets.throttle import WhenVisible

STUDENT_PRESETS = ("default", "tiny")
DEFAULT_STEPS = (
    600  # the budget where the measured saving first shows in every seed (benchmarks/distill_saving.py)
)


@dataclass(frozen=True)
class RaceSettings:
    teacher: str  # checkpoint path
    preset: str
    student: ModelConfig
    steps: int
    seed: int
    distill: DistillConfig


def default_race(settings: RaceSettings, out_dir: str):
    """The real engine; built in the worker thread (torch is imported there)."""
    from core.distill.distiller import Distiller

    train = replace(PRESETS[settings.preset].train, steps=settings.steps, seconds=0.0, seed=settings.seed)
    return Distiller(settings.teacher, settings.student, train, settings.distill, out_dir, settings.preset)


def _runs_root() -> str:
    from gui.context import runs_root

    return runs_root()


class DistillPanel(QWidget):
    def __init__(self, context=None) -> None:
        super().__init__()
        self.setObjectName("distillPanel")
        self.context = context
        self.race_factory = default_race  # tests swap in a tiny teacher and corpus
        self._worker: workers.EventWorker | None = None
        self._metrics: dict | None = None
        self._source = ""
        self._teacher_path = str(resources.bundled_model("teacher"))
        self._teacher = None  # Checkpoint for the soft labels
        self._student = None  # (Checkpoint or model, name) for the soft labels
        self._student_path = ""
        self._soft_generation = 0
        self._build()
        self.retranslate()
        # The recorded race is read at launch and drawn once the panel is in view: behind a tab, drawing it
        # competed with the window's first paint and torch's import (a 500 ms stall).
        self._draw_recorded = WhenVisible(self, self._on_recorded, hold_unshown=False)
        workers.after_startup(self, self._load_recorded)

    # -- widgets ---------------------------------------------------------------------------------------

    def _build(self) -> None:
        self.teacher_combo = QComboBox(objectName="distillTeacher")
        self.preset_combo = QComboBox(objectName="distillPreset")
        self.preset_combo.addItems(STUDENT_PRESETS)
        self.layers = QSpinBox(objectName="distillLayers", minimum=1, maximum=12)
        self.heads = QSpinBox(objectName="distillHeads", minimum=1, maximum=16)
        self.width = QSpinBox(objectName="distillWidth", minimum=8, maximum=512, singleStep=8)
        self.temperature = QDoubleSpinBox(
            objectName="distillTemperature", minimum=0.0, maximum=20.0, singleStep=0.5, value=1.0
        )
        self.alpha = QDoubleSpinBox(
            objectName="distillAlpha", minimum=-1.0, maximum=2.0, singleStep=0.1, value=0.9
        )  # outside [0, 1] is allowed here so the refusal is a message, not a silent clamp
        self.hidden_weight = QDoubleSpinBox(
            objectName="distillHiddenWeight", minimum=-1.0, maximum=100.0, value=0.0
        )
        self.attn_weight = QDoubleSpinBox(
            objectName="distillAttnWeight", minimum=-1.0, maximum=100.0, value=0.0
        )
        self.steps = QSpinBox(objectName="distillSteps", minimum=10, maximum=100_000, singleStep=100)
        self.steps.setValue(DEFAULT_STEPS)
        self.seed = QSpinBox(objectName="distillSeed", minimum=0, maximum=1_000_000)
        self.cached = QCheckBox(objectName="distillCached", checked=True)
        self.button = QPushButton(objectName="distillButton")
        self.stop_button = QPushButton(objectName="distillStopButton", enabled=False)
        self.progress = QProgressBar(objectName="distillProgress", minimum=0, maximum=1000)
        self.status = QLabel(objectName="distillStatus", wordWrap=True)
        self.plot = RacePlot()
        self.verdict_view = VerdictView()
        self.soft = SoftLabelView()

        self.form = QFormLayout()
        self._form_labels = [QLabel() for _ in range(11)]
        shape = QHBoxLayout()
        for w in (self.layers, self.heads, self.width):
            shape.addWidget(w)
        for label, field in zip(
            self._form_labels,
            (self.teacher_combo, self.preset_combo, shape, self.temperature, self.alpha, self.hidden_weight,
             self.attn_weight, self.steps, self.seed, self.cached),
            strict=False,
        ):  # fmt: skip
            self.form.addRow(label, field)
        buttons = QHBoxLayout()
        buttons.addWidget(self.button)
        buttons.addWidget(self.stop_button)
        left = QVBoxLayout()
        left.addLayout(self.form)
        left.addLayout(buttons)
        left.addWidget(self.progress)
        left.addWidget(self.status)
        left.addStretch(1)
        below = QHBoxLayout()
        below.addWidget(self.verdict_view, 3)
        below.addWidget(self.soft, 2)
        grid = QGridLayout(self)
        grid.addLayout(left, 0, 0, 2, 1)
        grid.addWidget(self.plot, 0, 1)
        grid.addLayout(below, 1, 1)
        grid.setColumnStretch(1, 1)
        grid.setRowStretch(0, 1)

        self.preset_combo.currentTextChanged.connect(self._on_preset_changed)
        self._on_preset_changed(self.preset_combo.currentText())
        self.teacher_combo.activated.connect(self._on_teacher_chosen)
        self.button.clicked.connect(self.start_race)
        self.stop_button.clicked.connect(self.stop_race)
        self.soft.text_edited.connect(self._refresh_soft_labels)

    def retranslate(self) -> None:
        names = (
            ("老师", "teacher"), ("学生预设", "student preset"), ("层 × 头 × 宽", "layers × heads × width"),
            ("温度 T", "temperature T"), ("α（软标签权重）", "α (soft-label weight)"),
            ("w_h（隐藏状态）", "w_h (hidden states)"), ("w_a（注意力）", "w_a (attention)"), ("步数", "steps"),
            ("随机种子", "seed"), ("老师输出", "teacher outputs"),
        )  # fmt: skip
        for label, (zh, en) in zip(self._form_labels, names, strict=False):
            label.setText(tr(zh, en))
        current = self.teacher_combo.currentIndex()
        self.teacher_combo.clear()
        self.teacher_combo.addItem(tr("附带的老师（4×128）", "bundled teacher (4×128)"), "bundled")
        if self._teacher_path != str(resources.bundled_model("teacher")):
            self.teacher_combo.addItem(
                os.path.basename(os.path.dirname(self._teacher_path)) or self._teacher_path
            )
        self.teacher_combo.addItem(tr("打开检查点…", "Open checkpoint…"), "open")
        self.teacher_combo.setCurrentIndex(max(0, min(current, self.teacher_combo.count() - 2)))
        self.cached.setText(tr("预先缓存一次（top-16）", "cached once (top-16)"))
        self.cached.setToolTip(
            tr(
                "勾选：比赛前把老师对每个批次的前 16 个概率算好存起来（离线蒸馏）；不勾：每步实时跑老师",
                "Checked: the teacher's top-16 probabilities for every batch are made once before the race "
                "(offline distillation); unchecked: the teacher runs live at every step",
            )
        )
        self.button.setText(tr("开始比赛：蒸馏 vs 单独学习", "Race: distilled vs alone"))
        self.stop_button.setText(tr("停止", "Stop"))
        status = getattr(self, "_status", "")
        self.status.setText(status() if callable(status) else status)
        self.plot.retranslate()
        self.verdict_view.retranslate()
        self.soft.retranslate()

    # -- what the lesson panel uses ----------------------------------------------------------------------

    def verdict(self) -> dict | None:
        """The verdict on screen (recorded or live), or None before any result."""
        if not self._metrics or "steps_ratio" not in self._metrics:
            return None
        m = self._metrics
        keys = ("steps_ratio", "coref_steps_ratio", "flops_ratio", "flops_ratio_cached", "steps",
                "steps_to_match", "coref_ratio_is_bound", "step_time_ratio", "break_even_students",
                "teacher_training_flops",
                "val_loss", "scratch_val_loss", "teacher_val_loss", "coref_acc", "scratch_coref_acc",
                "temperature", "alpha", "cache_teacher", "seed")  # fmt: skip
        return {**{k: m.get(k) for k in keys}, "source": self._source}

    def is_running(self) -> bool:
        return self._worker is not None

    def start_race(self) -> None:
        """What distillButton does; does nothing while a race is running. Bad settings → a message."""
        if self._worker is not None:
            return
        try:
            settings = self.settings()
        except (ConfigError, ValueError) as e:
            why = str(e)
            self._say(lambda: tr("设置有误：", "Bad setting: ") + why)
            return
        out_dir = os.path.join(_runs_root(), time.strftime("distill-%Y%m%d-%H%M%S"))
        factory = self.race_factory
        worker = workers.EventWorker(lambda: factory(settings, out_dir))
        worker.event_emitted.connect(self._on_event)
        worker.crashed.connect(self._on_crashed)
        worker.ended.connect(self._on_ended)
        self._worker = worker
        self.plot.reset()
        self._show_verdict(None, "")
        self.progress.setValue(0)
        self.button.setEnabled(False)
        self.stop_button.setEnabled(True)
        cache = settings.distill.cache_teacher
        self._say(
            lambda: tr("准备中：读语料、老师" + ("，并缓存老师的输出…" if cache else "…"),
               "Preparing: corpus, teacher" + (", caching the teacher's outputs…" if cache else "…"))
        )  # fmt: skip
        workers.start(worker)

    def stop_race(self) -> None:
        if self._worker is not None:
            self._worker.stop()

    def soft_labels(self, text: str, temperature: float) -> list[tuple[str, float, float]]:
        """(word, teacher p, student p) for the next token after `text` (up to a ＿). The student is the last
        race's distilled student (live or recorded); before any, the untrained student a race starts from.
        Runs on the calling thread: two forward passes of tiny models on one sentence (a few ms), plus a
        first load of the checkpoints if they are not loaded yet."""
        from core.distill import soft_labels as sl

        labels, t, s, _name = self._keep_models(self._soft_job(text)())
        return sl.rows(labels, t, s, temperature)

    # -- settings ------------------------------------------------------------------------------------------

    def settings(self) -> RaceSettings:
        """The form as engine settings, bounded (raises ConfigError with the field's name)."""
        dc = DistillConfig(
            temperature=self.temperature.value(),
            alpha=self.alpha.value(),
            hidden_weight=self.hidden_weight.value(),
            attn_weight=self.attn_weight.value(),
            cache_teacher=self.cached.isChecked(),
        ).validate()
        preset = self.preset_combo.currentText()
        return RaceSettings(
            self._teacher_path, preset, self.student_config(), self.steps.value(), self.seed.value(), dc
        )

    def student_config(self) -> ModelConfig:
        """The student's shape from the form (raises ConfigError, e.g. width not divisible by heads)."""
        return replace(
            PRESETS[self.preset_combo.currentText()].model,
            n_layer=self.layers.value(),
            n_head=self.heads.value(),
            n_embd=self.width.value(),
        ).validate()

    def set_temperature(self, t: float) -> None:
        self.temperature.setValue(t)

    def set_alpha(self, a: float) -> None:
        self.alpha.setValue(a)

    @Slot(str)
    def _on_preset_changed(self, name: str) -> None:
        cfg = PRESETS[name].model
        self.layers.setValue(cfg.n_layer)
        self.heads.setValue(cfg.n_head)
        self.width.setValue(cfg.n_embd)

    @Slot(int)
    def _on_teacher_chosen(self, index: int) -> None:
        kind = self.teacher_combo.itemData(index)
        if kind == "bundled":
            self.set_teacher(str(resources.bundled_model("teacher")))
        elif kind == "open":
            path, _ = QFileDialog.getOpenFileName(
                self,
                tr("打开老师检查点", "Open a teacher checkpoint"),
                "",
                "Checkpoints (*.safetensors *.json)",
            )
            if path:
                self.set_teacher(path)
            else:
                self.retranslate()

    def set_teacher(self, path: str) -> None:
        """Check in a worker that `path` loads and can teach this student (same tokenizer, objective)."""
        try:
            preset = self.preset_combo.currentText()
            settings = RaceSettings(path, preset, self.student_config(), 10, 0, DistillConfig())
        except (ConfigError, ValueError) as e:
            self._say(str(e))
            return
        self._say(lambda: tr("检查老师…", "Checking the teacher…"))

        def check():
            engine = default_race(settings, os.devnull)
            engine.check()
            return engine.teacher

        workers.call_in_worker(
            check, lambda ckpt: self._on_teacher_ok(path, ckpt), self._on_teacher_refused, self
        )

    def _on_teacher_ok(self, path: str, ckpt) -> None:
        self._teacher_path, self._teacher = path, ckpt
        self.retranslate()
        self._say(
            lambda: tr(
                f"老师：{ckpt.model.n_params():,} 个参数。", f"Teacher: {ckpt.model.n_params():,} parameters."
            )
        )
        self._refresh_soft_labels(self.soft.input.text())

    def _on_teacher_refused(self, message: str) -> None:
        self.retranslate()
        self._say(lambda: tr("不能用这个老师：", "This teacher cannot be used: ") + message.split(": ", 1)[-1])

    # -- the race's events -------------------------------------------------------------------------------

    @Slot(object)
    def _on_event(self, event) -> None:
        if isinstance(event, Started):
            self._say(
                lambda: tr(
                    "比赛中：两个学生同一起点、同一批数据。",
                    "Racing: two students, one start, the same batches.",
                )
            )
        elif isinstance(event, Step):
            self.progress.setValue(int(1000 * event.progress))
        elif isinstance(event, Eval):
            self.plot.add_eval(event.step, event.metrics)
        elif isinstance(event, Done):
            if event.metrics.get("steps_ratio", None) is not None or "lone_final_val_loss" in event.metrics:
                self._show_verdict(dict(event.metrics), "live")
            stopped = event.reason == "stopped"
            self._say(
                lambda: tr(
                    "已停止。" if stopped else "比赛结束。", "Stopped." if stopped else "The race is over."
                )
            )
            if event.checkpoint_path and os.path.isfile(event.checkpoint_path):
                self._load_student(
                    event.checkpoint_path, lambda: tr("蒸馏学生（刚才的比赛）", "distilled student (this race)")
                )
        elif isinstance(event, Failed):
            self._say(lambda: tr("比赛失败：", "The race failed: ") + event.message)

    @Slot(str)
    def _on_crashed(self, message: str) -> None:
        self._say(lambda: tr("比赛失败：", "The race failed: ") + message)

    @Slot()
    def _on_ended(self) -> None:
        self._worker = None
        self.button.setEnabled(True)
        self.stop_button.setEnabled(False)

    def _show_verdict(self, metrics: dict | None, source: str) -> None:
        self._metrics, self._source = metrics, source
        self.verdict_view.show_metrics(metrics, source)

    def _say(self, text) -> None:
        """A status line: a string, or a function giving it in the current language (re-run on a switch)."""
        self._status = text
        self.status.setText(text() if callable(text) else text)

    # -- the recorded race and the soft labels' models -----------------------------------------------------

    def _load_recorded(self) -> None:
        folder = resources.models_dir() / "race"
        if not (folder / "metrics.jsonl").is_file():
            self._refresh_soft_labels(self.soft.input.text())
            return

        def load():
            from core.runlog import read_run_folder

            return read_run_folder(str(folder))

        workers.call_in_worker(load, self._draw_recorded, self._say, self)

    def _on_recorded(self, history) -> None:
        if self._metrics is not None or self._worker is not None:
            return  # a live race got here first
        self.plot.reset()
        self.plot.add_evals([(ev.step, ev.metrics) for ev in history.evals])
        if isinstance(history.end, Done):
            self._show_verdict(dict(history.end.metrics), "recorded")
        student = resources.models_dir() / "race" / "distilled.safetensors"
        if student.is_file() and not self._student_path:
            self._load_student(
                str(student), lambda: tr("蒸馏学生（附带的比赛）", "distilled student (recorded race)")
            )
        self._say(
            lambda: tr(
                "这是随应用附带的比赛记录；点按钮自己跑一次。",
                "This is the race recorded with the app; press the button to run your own.",
            )
        )

    def _load_student(self, path: str, name: str) -> None:
        def load():
            from core.model.checkpoint import load_checkpoint

            return load_checkpoint(path)

        def loaded(ckpt) -> None:
            self._student_path, self._student = path, (ckpt.model, name)
            self._refresh_soft_labels(self.soft.input.text())

        workers.call_in_worker(load, loaded, self._say, self)

    def _soft_job(self, text: str):
        """A function computing (teacher, student, labels, teacher logits, student logits) for `text`, safe to
        run in a worker: everything it needs from the widgets is read here, on the GUI thread."""
        teacher, student, path = self._teacher, self._student, self._teacher_path
        cfg, seed = self.student_config(), self.seed.value()
        untrained = lambda: tr("学生（未训练）", "student (untrained)")  # noqa: E731

        def job():
            from core.analysis.probes import untrained_like
            from core.distill import soft_labels as sl
            from core.model.checkpoint import load_checkpoint
            from core.model.gpt import GPT

            t_ckpt = teacher or load_checkpoint(path)
            pair = student or (
                untrained_like(GPT(replace(cfg, vocab_size=t_ckpt.tokenizer.vocab_size)), seed),
                untrained,
            )
            labels = sl.word_labels(t_ckpt.tokenizer, t_ckpt.meta.get("categories") or {})
            with inference_threads():
                t = sl.next_logits(t_ckpt.model, t_ckpt.tokenizer, text)
                s = sl.next_logits(pair[0], t_ckpt.tokenizer, text)
            return t_ckpt, pair, labels, t, s

        return job

    def _keep_models(self, result) -> tuple:
        t_ckpt, pair, labels, t, s = result
        self._teacher = self._teacher or t_ckpt
        self._student = self._student or pair
        return labels, t, s, pair[1]

    @Slot(str)
    def _refresh_soft_labels(self, text: str) -> None:
        if not os.path.isfile(self._teacher_path):
            self.soft.note.setText(tr("没有找到老师模型。", "No teacher model found."))
            return
        job = self._soft_job(text)
        self._soft_generation += 1
        generation = self._soft_generation

        def show(result) -> None:
            shown = self._keep_models(result)
            if generation == self._soft_generation:  # a slower, older job must not overwrite a newer one
                self.soft.set_logits(*shown)

        workers.call_in_worker(job, show, self._say, self)

    def article_text(self) -> str:
        return ARTICLE_TEXT
