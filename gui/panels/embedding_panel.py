"""Word-vector panel: the entity tokens' learned vectors, projected to 2-D by PCA, coloured by category.

The article says words seen in similar sentences end up close; this shows it happening during training.
PCA is a numpy SVD of a (~50 × width) matrix — microseconds — and each component's sign is aligned with
the previous snapshot so the picture does not flip back and forth between snapshots."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from core.data.corpus import CATEGORY_NAMES
from core.events import Eval, Snapshot
from gui.i18n import chance_note, tr
from gui.widgets.scatter_labels import ScatterLabels
from gui.widgets.throttle import WhenVisible

PALETTE = [
    (31, 119, 180),
    (214, 39, 40),
    (44, 160, 44),
    (148, 103, 189),
    (255, 127, 14),
    (140, 86, 75),
    (227, 119, 194),
    (127, 127, 127),
    (188, 189, 34),
    (23, 190, 207),
]


def pca_2d(vectors: np.ndarray, previous: np.ndarray | None = None) -> np.ndarray:
    """(n, d) → (n, 2) on the two directions of largest variance; signs follow `previous` when given."""
    x = np.asarray(vectors, dtype=np.float64)
    if x.ndim != 2 or len(x) == 0:
        return np.zeros((0, 2))
    x = x - x.mean(axis=0)
    _, _, vt = np.linalg.svd(x, full_matrices=False)
    comps = np.zeros((2, x.shape[1]))
    comps[: min(2, len(vt))] = vt[:2]
    coords = x @ comps.T
    for k in range(2):
        if previous is not None and previous.shape == coords.shape:
            flip = float(np.dot(coords[:, k], previous[:, k])) < 0
        else:
            flip = coords[np.argmax(np.abs(coords[:, k])), k] < 0 if len(coords) else False
        if flip:
            coords[:, k] *= -1
    return coords


class EmbeddingPanel(QWidget):
    """Scatter + labels, reused across snapshots (items are created once and updated)."""

    def __init__(self, context=None) -> None:
        super().__init__()
        self.setObjectName("embeddingPanel")
        self._tokens: tuple[str, ...] = ()
        self._categories: tuple[str, ...] = ()
        self._coords = np.zeros((0, 2))
        self._purity: tuple[float, float | None] | None = None
        self._step = None
        self._brushes: list = []
        self._show_snapshot = WhenVisible(self, self.show_vectors)
        self.plot = pg.PlotWidget(background="w")
        self.plot.setObjectName("embeddingPlot")
        self.plot.getPlotItem().hideAxis("left")
        self.plot.getPlotItem().hideAxis("bottom")
        self.scatter = pg.ScatterPlotItem(size=10, pen=pg.mkPen("w", width=0.5))
        self.plot.addItem(self.scatter)
        self.labels = ScatterLabels()
        self.plot.addItem(self.labels)
        self.info = QLabel(objectName="embeddingInfo", wordWrap=True)
        self.legend = QLabel(objectName="embeddingLegend", wordWrap=True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.info)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.legend)
        if context is not None:
            context.session.snapshot_ready.connect(self._on_snapshot_ready)
            context.session.evaluated.connect(self._on_evaluated)
            context.session.run_started.connect(lambda _e: self._reset_purity())
            context.model_loaded.connect(self._on_model_loaded)
        self.retranslate()

    def retranslate(self) -> None:
        if self._step is None:
            text = tr(
                "开始训练后，这里会显示实体词的词向量（主成分分析投影到二维）。",
                "Train a model to see the entity words' vectors here (PCA to 2-D).",
            )
        else:
            text = tr(
                f"第 {self._step} 步的词向量，主成分分析投影到二维：同类的词会慢慢靠近。",
                f"Word vectors at step {self._step}, PCA to 2-D: words of a kind drift together.",
            )
        if self._purity is not None:
            purity, chance = self._purity
            text += "\n" + tr("近邻纯度", "Neighbour purity") + f" {purity:.2f}{chance_note(chance)}"
        self.info.setText(text)
        self._update_legend()

    def points(self) -> dict[str, tuple[float, float]]:
        """What is on screen: token → (x, y)."""
        return {t: (float(x), float(y)) for t, (x, y) in zip(self._tokens, self._coords, strict=True)}

    def _reset_purity(self) -> None:
        self._purity = None
        self.retranslate()

    def _on_evaluated(self, event: Eval) -> None:
        m = event.metrics
        if "neighbor_purity" in m:
            chance = m.get("neighbor_chance")
            self._purity = (float(m["neighbor_purity"]), float(chance) if chance is not None else None)
            self.retranslate()

    def _on_model_loaded(self, checkpoint) -> None:
        """A checkpoint (the bundled model at start-up): its entity words' vectors, as in training."""
        meta = getattr(checkpoint, "meta", {}) or {}
        categories = meta.get("categories")
        if not isinstance(categories, dict) or not categories:
            return
        try:
            from core.analysis.probes import neighbor_purity, word_vectors

            words = sorted(categories)
            lang = meta.get("lang") or getattr(checkpoint.train_cfg, "lang", "zh")
            vectors = word_vectors(checkpoint.model, checkpoint.tokenizer, words, lang)
            self._purity = neighbor_purity(vectors, [categories[w] for w in words])
        except Exception:  # noqa: BLE001 - an old or foreign checkpoint simply shows nothing here
            return
        self.show_vectors(words, [categories[w] for w in words], vectors, meta.get("step"))

    def _on_snapshot_ready(self, event: Snapshot) -> None:
        self._show_snapshot(event.embedding_tokens, event.embedding_categories, event.embeddings, event.step)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._show_snapshot.shown()

    def show_vectors(self, tokens, categories, vectors, step: int | None = None) -> None:
        vectors = np.asarray(vectors)
        if len(tokens) == 0 or vectors.ndim != 2 or len(vectors) != len(tokens):
            return
        same = tuple(tokens) == self._tokens
        self._coords = pca_2d(vectors, self._coords if same else None)
        self._step = step
        categories = tuple(categories) if len(categories) == len(tokens) else ("",) * len(tokens)
        if not same or categories != self._categories:  # words and colours change only with the corpus
            self._tokens, self._categories = tuple(tokens), categories
            kinds = sorted(set(categories))
            self._brushes = [pg.mkBrush(*PALETTE[kinds.index(c) % len(PALETTE)]) for c in categories]
        self.scatter.setData(pos=self._coords, brush=self._brushes)
        self.labels.set_labels([t.strip() for t in self._tokens], self._coords)
        self._fit_range()
        self.retranslate()

    def _fit_range(self) -> None:
        """The points' box plus 12 % (labels hang to the right): cheaper than asking every item's bounds."""
        (x0, y0), (x1, y1) = self._coords.min(axis=0), self._coords.max(axis=0)
        pad_x, pad_y = 0.12 * max(x1 - x0, 1e-9), 0.12 * max(y1 - y0, 1e-9)
        self.plot.getPlotItem().setRange(
            xRange=(x0 - pad_x, x1 + 2 * pad_x), yRange=(y0 - pad_y, y1 + 2 * pad_y), padding=0
        )

    def _update_legend(self) -> None:
        kinds = sorted(set(self._categories))
        parts = []
        for i, kind in enumerate(kinds):
            r, g, b = PALETTE[i % len(PALETTE)]
            name = tr(*CATEGORY_NAMES[kind]) if kind in CATEGORY_NAMES else kind
            parts.append(f'<span style="color:rgb({r},{g},{b})">●</span> {name}')
        self.legend.setText("&nbsp;&nbsp;".join(parts))
