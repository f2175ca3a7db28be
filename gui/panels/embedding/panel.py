"""Word-vector panel: ask the model's vectors questions. A map (PCA, t-SNE or two semantic axes) of the
entity words coloured by category — every token too, on request — nearest neighbours by cosine in the
full space, the "personality tag" table, and a time-lapse of the run's snapshots.

The time-lapse aligns every frame to the latest by an orthogonal Procrustes rotation, so points move
between frames instead of the whole picture spinning (PCA's axes are only defined up to rotation)."""

from __future__ import annotations

import threading

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QMenu,
    QProgressBar,
    QPushButton,
    QSlider,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from core.data.corpus import CATEGORY_NAMES
from core.embeddings.frames import Frame, Timeline
from core.embeddings.projection import orient, pca_2d, procrustes
from core.embeddings.vectors import (
    Axis,
    cosine_neighbours,
    purity_chance,
    score_table,
    score_word,
)
from core.events import Eval, Snapshot
from gui import workers
from gui.i18n import chance_note, tr
from gui.panels.embedding import axes_settings, exports
from gui.panels.embedding.axes_table import AxesTable
from gui.panels.embedding.loading import load_checkpoint_view, load_run_view
from gui.panels.embedding.map_view import MapView, category_colours
from gui.widgets.throttle import Throttled, WhenVisible

K_NEIGHBOURS = 8
PLAY_MS = 150
TABLE_MS = 150  # the table (Qt items, not a plot) follows a scrub at most this often
SPECIALS = ("<unk>", "[MASK]")


class _Progress(QObject):
    """Lives on the GUI thread; a worker emits on it and the value arrives here, queued."""

    changed = Signal(float)


class EmbeddingPanel(QWidget):
    def __init__(self, context=None) -> None:
        super().__init__()
        self.setObjectName("embeddingPanel")
        self.context = context
        self._timeline: Timeline | None = None
        self._untrained: Frame | None = None
        self._index = -1
        self._lang = "zh"
        self._note = ""  # why there is no time-lapse
        self._purity: tuple[float, float | None] | None = None  # the trainer's held-out probe
        self._reference: dict[bool, tuple] = {}  # all_tokens → (key, oriented PCA of the latest frame)
        self._tsne: dict[tuple, np.ndarray] = {}  # (step, all_tokens) → coords
        self._tsne_cancel: threading.Event | None = None
        self._tsne_started = 0.0
        self._message = ""
        self._query: str | None = None
        self._neighbours: list[tuple[str, float]] = []
        self._draw_later = WhenVisible(self, self.redraw)
        # A new model's vectors load when the panel is in view (behind a tab, a finished run's load and
        # table competed with the panel the user looks at).
        self._load_later = WhenVisible(self, self._load_model_view, hold_unshown=False)
        self._lookups: dict[int, tuple[Frame, dict]] = {}  # id(frame) → (frame, its lookup), see lookup()
        self._others_cache: tuple[object, list[int]] = (None, [])
        self._build()
        self._table_later = Throttled(self, TABLE_MS, self._refresh_table)  # scrubbing redraws the map only
        if context is not None:
            session = context.session
            session.snapshot_ready.connect(self._on_snapshot_ready)
            session.evaluated.connect(self._on_evaluated)
            session.run_started.connect(self._on_run_started)
            session.run_loaded.connect(self._on_run_loaded)
            context.model_loaded.connect(self._on_model_loaded)
        self.retranslate()

    # -- widgets -----------------------------------------------------------------------------------------

    def _build(self) -> None:
        self.search = QLineEdit(objectName="embeddingSearch")
        self.search.returnPressed.connect(lambda: self.ask(self.search.text().strip()))
        self.all_tokens = QCheckBox(objectName="embeddingAllTokens")
        self.all_tokens.toggled.connect(lambda _on: self._projection_changed())
        self.projection = QComboBox(objectName="embeddingProjection")
        for key in ("pca", "tsne", "axes"):
            self.projection.addItem(key, key)
        self.projection.currentIndexChanged.connect(lambda _i: self._projection_changed())
        self.axis_x = QComboBox(objectName="embeddingAxisX")
        self.axis_y = QComboBox(objectName="embeddingAxisY")
        for box in (self.axis_x, self.axis_y):
            box.currentIndexChanged.connect(lambda _i: self.redraw())
        self.perplexity = QDoubleSpinBox(objectName="embeddingPerplexity", minimum=2, maximum=100, value=15)
        self.tsne_run = QPushButton(objectName="embeddingTsneRun")
        self.tsne_run.clicked.connect(self.run_tsne)
        self.tsne_cancel = QPushButton(objectName="embeddingTsneCancel", enabled=False)
        self.tsne_cancel.clicked.connect(self.cancel_tsne)
        self.tsne_progress = QProgressBar(objectName="embeddingTsneProgress", maximum=1000, visible=False)
        self._progress = _Progress(self)
        self._progress.changed.connect(lambda f: self.tsne_progress.setValue(int(f * 1000)))
        self.export = QToolButton(objectName="embeddingExport")
        self.export.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self._export_menu = QMenu(self.export)
        self.export.setMenu(self._export_menu)
        self._export_actions = [
            self._export_menu.addAction("", lambda: self._ask_path("csv", lambda p: self.export_csv(p))),
            self._export_menu.addAction("", lambda: self._ask_path("csv", lambda p: self.export_csv(p, True))),
            self._export_menu.addAction("", lambda: self._ask_path("png", self.export_png)),
            self._export_menu.addAction("", lambda: self._ask_path("csv", self.export_table_csv)),
        ]
        self.map = MapView()
        self.plot, self.scatter, self.labels = self.map, self.map.scatter, self.map.labels
        self.map.word_clicked.connect(self.ask)
        self.neighbour_list = QListWidget(objectName="embeddingNeighbours")
        self.neighbour_list.setMaximumWidth(190)
        self.neighbour_title = QLabel(wordWrap=True)
        self.info = QLabel(objectName="embeddingInfo", wordWrap=True)
        self.legend = QLabel(objectName="embeddingLegend", wordWrap=True)
        self.play = QToolButton(objectName="embeddingPlay", checkable=True)
        self.play.toggled.connect(self._on_play_toggled)
        self.timeline = QSlider(Qt.Orientation.Horizontal, objectName="embeddingTimeline", enabled=False)
        self.timeline.valueChanged.connect(self.show_frame)
        self.step_label = QLabel()
        self._play_timer = QTimer(self, interval=PLAY_MS)
        self._play_timer.timeout.connect(self._advance)
        self.axes = AxesTable()
        self.axes.axes_changed.connect(self._on_axes_changed)
        self.axes.words_changed.connect(self._on_words_changed)

        controls = QHBoxLayout()
        for w in (self.search, self.projection, self.axis_x, self.axis_y, self.perplexity, self.tsne_run):
            controls.addWidget(w)
        controls.addWidget(self.tsne_cancel)
        controls.addWidget(self.all_tokens)
        controls.addWidget(self.export)
        side = QVBoxLayout()
        side.addWidget(self.neighbour_title)
        side.addWidget(self.neighbour_list, 1)
        middle = QHBoxLayout()
        middle.addWidget(self.map, 1)
        middle.addLayout(side)
        scrub = QHBoxLayout()
        scrub.addWidget(self.play)
        scrub.addWidget(self.timeline, 1)
        scrub.addWidget(self.step_label)
        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addLayout(controls)
        top_layout.addWidget(self.tsne_progress)
        top_layout.addWidget(self.info)
        top_layout.addLayout(middle, 1)
        top_layout.addLayout(scrub)
        top_layout.addWidget(self.legend)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(top)
        splitter.addWidget(self.axes)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        QVBoxLayout(self).addWidget(splitter)
        self._update_mode_widgets()

    def retranslate(self) -> None:
        self.search.setPlaceholderText(tr("输入一个词，看它的近邻…", "Type a word to see its neighbours…"))
        self.projection.setItemText(0, tr("主成分分析（PCA）", "PCA"))
        self.projection.setItemText(1, "t-SNE")
        self.projection.setItemText(2, tr("两条轴", "Two axes"))
        self.perplexity.setPrefix(tr("困惑度 ", "perplexity "))
        self.tsne_run.setText(tr("计算 t-SNE", "Run t-SNE"))
        self.tsne_cancel.setText(tr("取消", "Cancel"))
        self.all_tokens.setText(tr("所有词元", "All tokens"))
        self.export.setText(tr("导出", "Export"))
        texts = (
            tr("当前帧的坐标（CSV）", "Shown frame's points (CSV)"),
            tr("所有帧的坐标（CSV）", "Every frame's points (CSV)"),
            tr("地图图片（PNG）", "Map image (PNG)"),
            tr("性格标签表（CSV）", "Tag table (CSV)"),
        )
        for action, text in zip(self._export_actions, texts, strict=True):
            action.setText(text)
        self.play.setText("⏸" if self.play.isChecked() else "▶")
        self.axes.retranslate()
        self.redraw()

    # -- engine and model events -------------------------------------------------------------------------

    def _on_run_started(self, _event) -> None:
        self._load_later.cancel()  # the run's snapshots replace an older model's view
        self._timeline, self._untrained, self._index, self._note = None, None, -1, ""
        self._purity = None
        self._tsne.clear()
        self.redraw()

    def _on_evaluated(self, event: Eval) -> None:
        m = event.metrics
        if "neighbor_purity" in m:
            chance = m.get("neighbor_chance")
            self._purity = (float(m["neighbor_purity"]), float(chance) if chance is not None else None)
            self._refresh_info()

    def _on_snapshot_ready(self, event: Snapshot) -> None:
        """A run's snapshot joins the in-memory time-lapse; the map follows it when at the latest frame."""
        words, cats = tuple(event.embedding_tokens), tuple(event.embedding_categories)
        if not words:
            return
        if self._timeline is None or self._timeline.words != words:
            self._timeline = Timeline(words, cats, tuple(event.token_labels))
            self._index = -1
        following = self._index in (-1, len(self._timeline.frames) - 1)
        frame = self._timeline.add(event.step, event.embeddings, event.token_embeddings)
        if frame.step == 0 and len(self._timeline.frames) == 1:
            self._untrained = frame
        if following:
            self._index = len(self._timeline.frames) - 1
        self._draw_later()

    def _on_model_loaded(self, checkpoint) -> None:
        self._load_later(checkpoint)

    def _load_model_view(self, checkpoint) -> None:
        workers.call_in_worker(lambda: load_checkpoint_view(checkpoint), self._on_view_loaded, owner=self)

    def _on_run_loaded(self, history) -> None:
        run_dir = history.run_dir
        workers.call_in_worker(lambda: load_run_view(run_dir), self._on_view_loaded, self._on_error, owner=self)

    def _on_view_loaded(self, loaded) -> None:
        self._note = loaded.note
        if loaded.timeline is None:
            self._refresh_info()
            return
        self._timeline, self._untrained = loaded.timeline, loaded.untrained
        self._lang = loaded.lang or self._lang
        self._index = len(self._timeline.frames) - 1
        self._tsne.clear()
        self._load_axes()
        self._draw_later()

    def _on_error(self, message: str) -> None:
        self._message = message
        self._refresh_info()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._draw_later.shown()

    # -- what is shown -------------------------------------------------------------------------------------

    def frame(self) -> Frame | None:
        if self._timeline is None or not self._timeline.frames:
            return None
        return self._timeline.frames[self._index]

    def _others(self) -> list[int]:
        """Token ids shown as "other" points: every token but the specials and the entity words."""
        if self._timeline is None:
            return []
        if self._others_cache[0] is not self._timeline:
            words = set(self._timeline.words)
            ids = [
                i
                for i, label in enumerate(self._timeline.token_labels)
                if label not in SPECIALS and label.strip() not in words and label.strip()
            ]
            self._others_cache = (self._timeline, ids)
        return self._others_cache[1]

    def _show_others(self, frame: Frame | None) -> bool:
        return self.all_tokens.isChecked() and frame is not None and frame.tokens is not None

    def _matrix(self, frame: Frame, with_others: bool) -> np.ndarray:
        if not with_others:
            return frame.words
        return np.vstack([frame.words, frame.tokens[self._others()].astype(np.float32)])

    def lookup(self, frame: Frame | None = None) -> dict[str, np.ndarray]:
        """Every word this model has a vector for: the entity words, and each single token by its text."""
        frame = frame or self.frame()
        if frame is None:
            return {}
        cached = self._lookups.get(id(frame))
        if cached is not None and cached[0] is frame:
            return cached[1]
        if len(self._lookups) > 256:  # a long run scrubbed end to end: start the cache again
            self._lookups.clear()
        out: dict[str, np.ndarray] = {}
        if frame.tokens is not None:
            rows = frame.tokens.astype(np.float32)  # one conversion; the entries are views of it
            for i, label in enumerate(self._timeline.token_labels):
                if label not in SPECIALS and label.strip():
                    out.setdefault(label.strip(), rows[i])
        out.update(zip(self._timeline.words, frame.words, strict=True))
        self._lookups[id(frame)] = (frame, out)
        return out

    def pca_coords(self, frame: Frame, with_others: bool) -> np.ndarray:
        """PCA of `frame`, rotated onto the latest frame's oriented PCA (cached per latest frame)."""
        latest = self._timeline.frames[-1]
        key = (latest.step, len(self._timeline.frames), id(latest))
        cached = self._reference.get(with_others)
        if cached is None or cached[0] != key:
            cached = (key, orient(pca_2d(self._matrix(latest, with_others))), {})
            self._reference[with_others] = cached
        if frame is latest:
            return cached[1]
        memo = cached[2].get(id(frame))
        if memo is None or memo[0] is not frame:
            memo = (frame, procrustes(pca_2d(self._matrix(frame, with_others)), cached[1]))
            cached[2][id(frame)] = memo  # scrubbing back over a frame costs nothing
        return memo[1]

    def axes_coords(self, frame: Frame, with_others: bool) -> tuple[np.ndarray, str]:
        """Each point's scores on the two chosen axes; a point that cannot be scored sits at 0 (said)."""
        axes = self.axes.axes()
        ix, iy = self.axis_x.currentIndex(), self.axis_y.currentIndex()
        if not axes or ix < 0 or iy < 0:
            return np.zeros((0, 2)), tr(
                "还没有轴：在下面的表里添加。", "No axes yet: add one in the table below."
            )
        lookup = self.lookup(frame)
        names = list(self._timeline.words)
        if with_others:
            names += [self._timeline.token_labels[i].strip() for i in self._others()]
        coords, missing = np.zeros((len(names), 2)), ""
        for j, axis in enumerate((axes[ix], axes[iy])):
            for n, name in enumerate(names):
                score = score_word(name, axis, lookup)
                if score.value is None:
                    missing = tr(f"“{axis.name}”无法计算。", f"'{axis.name}' cannot be computed.")
                else:
                    coords[n, j] = score.value
        return coords, missing

    def coords(self, frame: Frame | None = None) -> tuple[np.ndarray, str]:
        """(points, note) for `frame` in the chosen projection: words first, then the other tokens."""
        frame = frame or self.frame()
        if frame is None:
            return np.zeros((0, 2)), ""
        others = self._show_others(frame)
        mode = self.projection.currentData()
        if mode == "axes":
            return self.axes_coords(frame, others)
        if mode == "tsne":
            done = {k: v for k, v in self._tsne.items() if k[1] == others}
            if (frame.step, others) in done:
                return done[(frame.step, others)], ""
            if done:
                step = max(k[0] for k in done)
                return done[(step, others)], tr(
                    f"这是第 {step} 步的 t-SNE；这一步还没算，按“计算 t-SNE”。",
                    f"This is step {step}'s t-SNE; this step has none yet: press Run t-SNE.",
                )
            return self.pca_coords(frame, others), tr(
                "还没有 t-SNE：按“计算 t-SNE”（先显示 PCA）。",
                "No t-SNE yet: press Run t-SNE (PCA shown meanwhile).",
            )
        return self.pca_coords(frame, others), ""

    def show_frame(self, index: int) -> None:
        """Show frame `index` of the time-lapse (the slider calls this)."""
        if self._timeline is None or not 0 <= index < len(self._timeline.frames):
            return
        self._index = index
        self.redraw()

    def redraw(self) -> None:
        frame = self.frame()
        self._sync_timeline()
        if frame is None:
            self.map.show_points([], [], np.zeros((0, 2)))
            self._refresh_info()
            return
        coords, self._message = self.coords(frame)
        n = len(self._timeline.words)
        others = self._others() if self._show_others(frame) else []
        labels = [self._timeline.token_labels[i] for i in others]
        self.map.show_points(self._timeline.words, self._timeline.categories, coords[:n], labels, coords[n:])
        if self._query:
            self._neighbours = self.neighbours(self._query, K_NEIGHBOURS) if self._known(self._query) else []
            self.map.highlight(self._query, [w for w, _ in self._neighbours])
        self._show_neighbours()
        self._table_later()
        self._refresh_info()

    def _sync_timeline(self) -> None:
        frames = self._timeline.frames if self._timeline is not None else []
        self.timeline.blockSignals(True)
        self.timeline.setRange(0, max(0, len(frames) - 1))
        self.timeline.setValue(max(0, self._index if self._index >= 0 else len(frames) - 1))
        self.timeline.blockSignals(False)
        self.timeline.setEnabled(len(frames) > 1)
        self.play.setEnabled(len(frames) > 1)
        frame = self.frame()
        self.step_label.setText(tr(f"第 {frame.step} 步", f"step {frame.step}") if frame else "")

    def _refresh_info(self) -> None:
        frame = self.frame()
        if frame is None:
            text = tr(
                "开始训练或打开一个模型后，这里会显示实体词的词向量。",
                "Train or open a model to see the entity words' vectors here.",
            )
        else:
            n = len(self._timeline.frames)
            chance = purity_chance(self._timeline.categories)
            text = tr(
                f"第 {frame.step} 步（{self._index + 1}/{n} 帧）。"
                f"近邻纯度 {frame.purity:.2f}{chance_note(chance)}",
                f"Step {frame.step} (frame {self._index + 1}/{n}). Neighbour purity {frame.purity:.2f}"
                f"{chance_note(chance)}",
            )
            if self._purity is not None:
                purity, chance = self._purity
                text += (
                    tr("；留出探针的近邻纯度 ", "; held-out probe purity ")
                    + f"{purity:.2f}{chance_note(chance)}"
                )
            if n == 1 and not self._note:
                text += tr(
                    "。只有一帧：训练时每个快照都会成为一帧。", ". One frame: every snapshot of a run adds one."
                )
        if self._note:
            text += "\n" + tr("没有延时动画：", "No time-lapse: ") + self._note
        if self._message:
            text += "\n" + self._message
        self.info.setText(text)
        self._update_legend()

    def _update_legend(self) -> None:
        cats = self._timeline.categories if self._timeline else ()
        parts = []
        for kind, (r, g, b) in category_colours(cats).items():
            name = tr(*CATEGORY_NAMES[kind]) if kind in CATEGORY_NAMES else kind
            parts.append(f'<span style="color:rgb({r},{g},{b})">●</span> {name}')
        if self.all_tokens.isChecked():
            parts.append('<span style="color:rgb(150,150,150)">●</span> ' + tr("其他词元", "other tokens"))
        self.legend.setText("&nbsp;&nbsp;".join(parts))

    def points(self) -> dict[str, tuple[float, float]]:
        """What is on screen: entity word → (x, y)."""
        return self.map.points()

    def _projection_changed(self) -> None:
        self._update_mode_widgets()
        self.redraw()

    def _update_mode_widgets(self) -> None:
        mode = self.projection.currentData()
        for w in (self.axis_x, self.axis_y):
            w.setVisible(mode == "axes")
        for w in (self.perplexity, self.tsne_run, self.tsne_cancel):
            w.setVisible(mode == "tsne")

    # -- neighbours ----------------------------------------------------------------------------------------

    def _known(self, word: str) -> bool:
        return word in self.lookup()

    def neighbours(self, word: str, k: int = K_NEIGHBOURS) -> list[tuple[str, float]]:
        """The k words nearest to `word` by cosine in the full embedding space (the shown frame): the
        entity words, and every token as well when "all tokens" is on. [] for an unknown word."""
        lookup = self.lookup()
        if word not in lookup:
            return []
        frame = self.frame()
        names = list(self._timeline.words)
        if self._show_others(frame):
            names += [self._timeline.token_labels[i].strip() for i in self._others()]
        vectors = np.stack([lookup[n] for n in names])
        return cosine_neighbours(lookup[word], vectors, names, k, exclude=word)

    def ask(self, word: str) -> None:
        """Search (typed or clicked): list the neighbours and ring the word, or say it is unknown and
        change nothing else."""
        word = word.strip()
        if not word:
            return
        if self.search.text().strip() != word:
            self.search.setText(word)
        if not self._known(word):
            self.neighbour_title.setText(
                tr(f"“{word}”不在这个模型的词表里", f"'{word}' is not in this model's vocabulary")
            )
            return
        self._query = word
        self._neighbours = self.neighbours(word, K_NEIGHBOURS)
        self.map.highlight(word, [w for w, _ in self._neighbours])
        self._show_neighbours()

    def _show_neighbours(self) -> None:
        if self._query is None:
            self.neighbour_title.setText(tr("点一个点或搜索一个词", "Click a point or search a word"))
            return
        self.neighbour_title.setText(
            tr(f"“{self._query}”的近邻（余弦）", f"Nearest to '{self._query}' (cosine)")
        )
        self.neighbour_list.clear()
        self.neighbour_list.addItems([f"{w}  {s:+.3f}" for w, s in self._neighbours])

    def neighbour_rows(self) -> list[str]:
        return [self.neighbour_list.item(i).text() for i in range(self.neighbour_list.count())]

    # -- personality tags ----------------------------------------------------------------------------------

    def _load_axes(self) -> None:
        """Axes and rows saved for this language, else the defaults from the world's categories."""
        categories = dict(zip(self._timeline.words, self._timeline.categories, strict=True))
        settings = self.context.settings if self.context is not None else None
        axes, words = axes_settings.load(settings, self._lang, categories, self._timeline.words)
        self.axes.set_axes(axes)
        self.axes.set_words(words)
        self._fill_axis_boxes()

    def _save_axes(self) -> None:
        if self.context is not None:
            axes_settings.save(self.context.settings, self._lang, self.axes.axes(), self.axes.words())

    def _fill_axis_boxes(self) -> None:
        names = [a.name for a in self.axes.axes()]
        for n, box in enumerate((self.axis_x, self.axis_y)):
            keep = box.currentIndex()
            box.blockSignals(True)
            box.clear()
            box.addItems(names)
            default = min(n, len(names) - 1)
            box.setCurrentIndex(keep if 0 <= keep < len(names) and keep != -1 else default)
            box.blockSignals(False)

    def _on_axes_changed(self, _axes) -> None:
        self._fill_axis_boxes()
        self._save_axes()
        self.redraw()

    def _on_words_changed(self, _words) -> None:
        self._save_axes()
        self._refresh_table()

    def set_axes(self, axes: list[Axis], words=None) -> None:
        """Replace the table's axes (and rows); saved like an edit in the table."""
        self.axes.set_axes(axes)
        if words is not None:
            self.axes.set_words(words)
        self._on_axes_changed(axes)
        self._refresh_table()

    def _refresh_table(self) -> None:
        frame = self.frame()
        if frame is None:
            return
        words, axes = self.axes.words(), self.axes.axes()
        trained = score_table(words, axes, self.lookup(frame))
        base = score_table(words, axes, self.lookup(self._untrained)) if self._untrained is not None else None
        self.axes.show_scores(trained, base)

    def axis_scores(self, untrained: bool = False) -> dict[str, dict[str, float | None]]:
        """{word: {axis name: score}} for the table's rows and axes on the shown frame (or the untrained
        model); None where the cell says why not."""
        frame = self._untrained if untrained else self.frame()
        if frame is None:
            return {}
        table = score_table(self.axes.words(), self.axes.axes(), self.lookup(frame))
        return {w: {a: s.value for a, s in row.items()} for w, row in table.items()}

    # -- t-SNE ---------------------------------------------------------------------------------------------

    def run_tsne(self) -> None:
        """t-SNE of the shown frame in a worker (a child process underneath), with progress and Cancel."""
        from core.embeddings.tsne import MIN_POINTS, effective_perplexity, run_tsne

        frame = self.frame()
        if frame is None or self._tsne_cancel is not None:
            return
        others = self._show_others(frame)
        x = self._matrix(frame, others)
        vocab = len(self._timeline.token_labels)
        if len(x) < MIN_POINTS or (vocab and vocab <= 1):
            self._message = tr(
                f"t-SNE 至少需要 {MIN_POINTS} 个点和多于一个词元的模型（这里 {len(x)} 个点）。",
                f"t-SNE needs at least {MIN_POINTS} points and a model with more than one token "
                f"({len(x)} here).",
            )
            self._refresh_info()
            return
        perplexity = effective_perplexity(self.perplexity.value(), len(x))
        cancel = threading.Event()
        self._tsne_cancel = cancel
        progress = self._progress.changed
        key = (frame.step, others)
        self._set_tsne_running(True)

        def work():
            return run_tsne(x, perplexity, seed=0, progress=progress.emit, cancelled=cancel.is_set)

        def done(coords):
            self._tsne[key] = orient(coords)
            self._set_tsne_running(False)
            self.redraw()

        def failed(message: str):
            self._set_tsne_running(False)
            self._message = tr("t-SNE 已取消。", "t-SNE cancelled.") if "Cancelled" in message else message
            self._refresh_info()

        self._message = tr(
            f"正在计算 t-SNE（困惑度 {perplexity:.0f}）…", f"Running t-SNE (perplexity {perplexity:.0f})…"
        )
        self._refresh_info()
        self.tsne_worker = workers.call_in_worker(work, done, failed, owner=self)

    def cancel_tsne(self) -> None:
        if self._tsne_cancel is not None:
            self._tsne_cancel.set()

    def _set_tsne_running(self, running: bool) -> None:
        if not running:
            self._tsne_cancel = None
        self.tsne_progress.setValue(0)
        self.tsne_progress.setVisible(running)
        self.tsne_cancel.setEnabled(running)
        self.tsne_run.setEnabled(not running)

    # -- time-lapse playback -------------------------------------------------------------------------------

    def _on_play_toggled(self, on: bool) -> None:
        self.play.setText("⏸" if on else "▶")
        if on:
            if self._timeline is not None and self._index >= len(self._timeline.frames) - 1:
                self.show_frame(0)
            self._play_timer.start()
        else:
            self._play_timer.stop()

    def _advance(self) -> None:
        if self._timeline is None or self._index >= len(self._timeline.frames) - 1:
            self.play.setChecked(False)
            return
        self.show_frame(self._index + 1)

    # -- export --------------------------------------------------------------------------------------------

    def _ask_path(self, suffix: str, save) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, tr("导出", "Export"), f"word-vectors.{suffix}", f"*.{suffix}"
        )
        if path:
            save(path)

    def export_csv(self, path: str, all_frames: bool = False) -> bool:
        """token, category, x, y, step for the shown frame or every frame, in the shown projection."""
        return exports.points_csv(self, path, all_frames)

    def export_png(self, path: str) -> bool:
        return self.map.grab().save(path)

    def export_table_csv(self, path: str) -> bool:
        """word, then per axis its score and the untrained model's."""
        return exports.table_csv(self, path)
