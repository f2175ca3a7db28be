"""The verdict in numbers and words: steps and FLOPs ratios (live and cached teacher), the teacher's own
training cost, and probe scores of both students against the teacher and the untrained start."""

from __future__ import annotations

from PySide6.QtWidgets import QHeaderView, QLabel, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

from core import units
from gui.i18n import language, tr

PROBES = (
    ("val_loss", "验证损失", "validation loss", "{:.3f}"),
    ("coref_acc", "它→猫 top-1", "它→猫 top-1", "{:.2f}"),
    ("attn_coref_mean", "注意力指向先行词", "attention on the antecedent", "{:.2f}"),
    ("neighbor_purity", "词向量近邻纯度", "neighbour purity", "{:.2f}"),
    ("cloze_top5_good", "完形填空 top-5", "cloze top-5", "{:.2f}"),
)


def _ratio(v) -> str:
    return "—" if v is None else f"{v:.2f}×"


def _steps(v) -> str:
    return tr("未达到", "never") if v is None else f"{int(v):,}"


def _flops(v) -> str:
    return "—" if not v else f"{units.format_sci(v)}"


class VerdictView(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.summary = QLabel(objectName="distillSummary", wordWrap=True)
        self.factcheck = QLabel(objectName="distillFactCheck", wordWrap=True)
        self.table = QTableWidget(0, 4, objectName="distillVerdict")
        self.probes = QTableWidget(0, 5, objectName="distillProbes")
        for t in (self.table, self.probes):
            t.verticalHeader().setVisible(False)
            t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
            t.horizontalHeader().setStretchLastSection(True)
            t.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.summary)
        layout.addWidget(self.factcheck)
        layout.addWidget(self.table)
        layout.addWidget(self.probes)
        self._metrics: dict | None = None
        self._source = ""
        self.retranslate()

    def retranslate(self) -> None:
        self.table.setHorizontalHeaderLabels(
            [tr("度量", "measure"), tr("蒸馏学生", "distilled"), tr("单独学习", "alone"), tr("比值", "ratio")]
        )
        self.probes.setHorizontalHeaderLabels(
            [tr("探针", "probe"), tr("蒸馏学生", "distilled"), tr("单独学习", "alone"), tr("老师", "teacher"),
             tr("未训练", "untrained")]
        )  # fmt: skip
        self.show_metrics(self._metrics, self._source)

    def show_metrics(self, m: dict | None, source: str = "") -> None:
        self._metrics, self._source = m, source
        if not m:
            self.table.setRowCount(0)
            self.probes.setRowCount(0)
            self.summary.setText(tr("比赛结束后，这里给出结论。", "The verdict appears here when a race ends."))
            self.factcheck.setText("")
            return
        steps = m.get("steps") or 0
        bound = "≤ " if m.get("coref_ratio_is_bound") and m.get("coref_steps_ratio") is not None else ""
        rows = [
            (tr("达到单独学生最终验证损失的步数", "steps to the lone student's final val loss"),
             _steps(m.get("steps_to_match")), _steps(steps), _ratio(m.get("steps_ratio"))),
            (tr("它→猫 top-1 首次 ≥ 0.95 的步数", "steps to first reach 它→猫 top-1 ≥ 0.95"),
             _steps(m.get("coref_steps_distilled")), _steps(m.get("coref_steps_scratch")),
             bound + _ratio(m.get("coref_steps_ratio"))),
            (tr("FLOPs 到匹配点（老师实时前向计入）", "FLOPs to the match (live teacher counted)"),
             _flops(m.get("flops_to_match_live")), _flops(m.get("flops_scratch")),
             _ratio(m.get("flops_ratio"))),
            (tr("FLOPs 到匹配点（老师输出已缓存）", "FLOPs to the match (teacher cached)"),
             _flops(m.get("flops_to_match_cached")), _flops(m.get("flops_scratch")),
             _ratio(m.get("flops_ratio_cached"))),
            (tr("一次性缓存老师输出的 FLOPs", "one-off FLOPs to cache the teacher's outputs"),
             _flops(m.get("teacher_cache_flops")), "—", "—"),
            (tr("老师自己的训练 FLOPs", "the teacher's own training FLOPs"),
             _flops(m.get("teacher_training_flops")), "—", "—"),
            (tr("每步耗时（实测）", "time per step (measured)"),
             self._per_step(m.get("distilled_seconds"), steps), self._per_step(m.get("scratch_seconds"), steps),
             _ratio(m.get("step_time_ratio"))),
        ]  # fmt: skip
        self._fill(self.table, rows)
        probe_rows = []
        for key, zh, en, spec in PROBES:
            values = [m.get(key), m.get(f"scratch_{key}"), m.get(f"teacher_{key}"), m.get(f"baseline_{key}")]
            probe_rows.append((tr(zh, en), *("—" if v is None else spec.format(v) for v in values)))
        self._fill(self.probes, probe_rows)
        self.summary.setText(self._words(m, source))
        self.factcheck.setText(self._claim(m))

    def claim_verdict(self) -> str:
        """The article's claim checked against this race: "correct" / "unsupported" ("" before a race)."""
        return self._claim_verdict

    _claim_verdict = ""

    def _claim(self, m: dict) -> str:
        """The fact-check entry for 蒸馏大大缩短训练、节省算力, decided by the race on screen."""
        from core.cost import factcheck as FC
        from gui.panels.cost.factcheck import verdict_text

        check = next(c for c in FC.check_claims(race=m) if c.id == "distill_saves")
        self._claim_verdict = check.verdict
        claim = check.claim_zh if language() == "zh" else check.claim_en
        return tr(
            f"文章说：“{claim}”——按这场比赛：{verdict_text(check.verdict)}"
            f"（缓存老师时的 FLOPs 之比 {FC.format_value(check.computed, check.unit, 'zh')}）。"
            "DistilBERT：小 40 %、快 60 %、保留 97 % GLUE；"
            "DeepSeek-R1 蒸馏模型用 R1 一次生成的 80 万条样本微调。",
            f"The article: “{claim}” — by this race: {verdict_text(check.verdict)} "
            f"(FLOPs ratio with a cached teacher {FC.format_value(check.computed, check.unit, 'en')}). "
            "DistilBERT: 40 % smaller, 60 % faster, 97 % of GLUE; DeepSeek-R1's distilled models were "
            "fine-tuned on 800 k samples R1 generated once.",
        )

    @staticmethod
    def _per_step(seconds, steps) -> str:
        return "—" if not seconds or not steps else f"{1000 * seconds / steps:.0f} ms"

    @staticmethod
    def _fill(table: QTableWidget, rows: list[tuple]) -> None:
        table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                table.setItem(r, c, QTableWidgetItem(str(text)))
        table.resizeRowsToContents()

    @staticmethod
    def _words(m: dict, source: str) -> str:
        where = (
            tr("（随应用附带的比赛记录）", " (the race recorded with the app)")
            if source == "recorded"
            else tr("（刚才的比赛）", " (the race just run)")
        )
        steps, ratio = m.get("steps"), m.get("steps_ratio")
        if ratio is None:
            head = tr(
                f"{steps} 步内，蒸馏学生没有追上单独学习的学生的最终验证损失{where}。",
                f"Within {steps} steps the distilled student never reached the lone student's final "
                f"validation loss{where}.",
            )
            return head
        live, cached, breakeven = (
            m.get("flops_ratio"),
            m.get("flops_ratio_cached"),
            m.get("break_even_students"),
        )
        head = tr(
            f"蒸馏学生用 {ratio:.2f}× 的步数追上了单独学习的学生{where}。",
            f"The distilled student needed {ratio:.2f}× the steps of the one learning alone{where}.",
        )
        pays_live = live is not None and live < 1
        cost = tr(
            f"算力：老师实时前向时是 {live:.2f}×（{'省了' if pays_live else '没省'}）；"
            f"老师输出缓存后是 {cached:.2f}×。",
            f"Compute: {live:.2f}× with the teacher running live ({'a saving' if pays_live else 'no saving'}); "
            f"{cached:.2f}× with its outputs cached once.",
        )
        if breakeven:
            cost += tr(
                f" 但老师自己的训练要约 {breakeven:,.0f} 个这样的学生才能省回来。",
                f" But the teacher's own training is repaid only after ~{breakeven:,.0f} such students.",
            )
        return head + " " + cost
