"""The worksheet a teacher hands out: every step's claim, the article's figure, the measured answer, the
verdict and the picture grabbed from the panel when the step ran — one HTML file (pictures inline) or one
PDF (Qt's QTextDocument printed by QPdfWriter; no browser)."""

from __future__ import annotations

import base64
import html
import time

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMarginsF, QSizeF, QUrl
from PySide6.QtGui import QImage, QPageLayout, QPageSize, QPdfWriter, QTextDocument

from core.lesson.report import measured_text
from core.lesson.steps import Step

KIND_COLOURS = {"agrees": "#1b7f3b", "partly": "#a15c00", "differs": "#b3261e", "cannot": "#555555"}
PICTURE_WIDTH = 560  # px in the document: a page's text width at the PDF's resolution


def kind_name(kind: str, lang: str) -> str:
    names = {
        "agrees": ("一致", "agrees"),
        "partly": ("部分一致", "partly agrees"),
        "differs": ("不一致", "differs"),
        "cannot": ("无法显示", "cannot show"),
    }
    zh, en = names.get(kind, (kind, kind))
    return zh if lang == "zh" else en


def _png_bytes(image: QImage) -> bytes:
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return bytes(data)


def build_html(entries: list[tuple[Step, dict | None, QImage | None]], lang: str, inline: bool) -> str:
    """inline: pictures as data: URIs (HTML file); else as `step-<id>.png` resources (QTextDocument)."""
    t = (lambda zh, en: zh) if lang == "zh" else (lambda zh, en: en)
    out = [
        "<html><head><meta charset='utf-8'><style>"
        "body{font-family:sans-serif;} h2{margin-bottom:2px;} .sec{color:#666;} td{padding:2px 8px;}"
        "</style></head><body>",
        f"<h1>{t('大模型探索器 · 课堂练习', 'LLM Explorer · worksheet')}</h1>",
        "<p class='sec'>"
        + t(
            "每一步：文章的说法、文章的数字、在真实模型上测得的答案与结论。",
            "Each step: the article’s claim, its figure, the answer measured on a real model, and the verdict.",
        )
        + f" {time.strftime('%Y-%m-%d %H:%M')}</p>",
    ]
    for n, (step, result, image) in enumerate(entries, 1):
        out.append(f"<h2>{n}. {html.escape(t(step.title_zh, step.title_en))}</h2>")
        out.append(f"<p class='sec'>{t('文章', 'Article')} {html.escape(step.section)}</p>")
        out.append(f"<p>{html.escape(t(step.claim_zh, step.claim_en))}</p>")
        rows = [(t("文章的数字", "The article says"), t(step.article_zh, step.article_en))]
        if result is None:
            rows.append((t("测得", "Measured"), t("（这一步还没有做）", "(this step has not been done)")))
        else:
            v = result["verdict"]
            rows.append((t("测得", "Measured"), measured_text(step.id, result["measured"], lang)))
            colour = KIND_COLOURS.get(v["kind"], "#000")
            verdict = f"<b style='color:{colour}'>{kind_name(v['kind'], lang)}</b> — " + html.escape(v[lang])
            rows.append((t("结论", "Verdict"), verdict))
        out.append("<table>")
        for i, (name, value) in enumerate(rows):
            value = value if i == len(rows) - 1 and result is not None else html.escape(value)
            out.append(
                f"<tr><td valign='top'><b>{html.escape(name)}</b></td>"
                f"<td>{value.replace(chr(10), '<br>')}</td></tr>"
            )
        out.append("</table>")
        if image is not None and not image.isNull():
            src = (
                "data:image/png;base64," + base64.b64encode(_png_bytes(image)).decode("ascii")
                if inline
                else f"step-{step.id}.png"
            )
            width = min(PICTURE_WIDTH, image.width())
            out.append(f"<p><img src='{src}' width='{width}'></p>")
    out.append("</body></html>")
    return "\n".join(out)


def export(path: str, entries: list[tuple[Step, dict | None, QImage | None]], lang: str) -> None:
    """Write `path` as HTML (.html/.htm) or PDF (anything else). Raises OSError when it cannot be written."""
    if path.lower().endswith((".html", ".htm")):
        with open(path, "w", encoding="utf-8") as f:
            f.write(build_html(entries, lang, inline=True))
        return
    doc = QTextDocument()
    for step, _, image in entries:
        if image is not None and not image.isNull():
            doc.addResource(QTextDocument.ResourceType.ImageResource, QUrl(f"step-{step.id}.png"), image)
    doc.setHtml(build_html(entries, lang, inline=False))
    writer = QPdfWriter(path)
    writer.setResolution(96)  # one document pixel = one pixel: pictures keep their screen size
    writer.setPageLayout(
        QPageLayout(
            QPageSize(QPageSize.PageSizeId.A4), QPageLayout.Orientation.Portrait, QMarginsF(15, 15, 15, 15)
        )
    )
    doc.setPageSize(QSizeF(writer.width(), writer.height()))
    doc.print_(writer)
    del writer  # the file is finished when the writer goes
    import os

    if not os.path.isfile(path) or os.path.getsize(path) == 0:
        raise OSError(f"could not write {path}")
