"""CSV exports of the word-vector panel: the map's points (shown frame or every frame) and the tag table."""

from __future__ import annotations

import csv


def points_csv(panel, path: str, all_frames: bool = False) -> bool:
    """token, category, x, y, step in the shown projection; in t-SNE only frames that have their own."""
    timeline = panel._timeline
    if timeline is None:
        return False
    frames = timeline.frames if all_frames else [panel.frame()]
    with open(path, "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["token", "category", "x", "y", "step"])
        for frame in frames:
            coords, note = panel.coords(frame)
            if all_frames and panel.projection.currentData() == "tsne" and note:
                continue  # a frame without its own t-SNE is not exported as someone else's
            names, cats = list(timeline.words), list(timeline.categories)
            if panel._show_others(frame):
                names += [timeline.token_labels[i] for i in panel._others()]
                cats += ["other"] * (len(names) - len(cats))
            for name, cat, (x, y) in zip(names, cats, coords, strict=True):
                out.writerow([name, cat, f"{x:.6g}", f"{y:.6g}", frame.step])
    return True


def table_csv(panel, path: str) -> bool:
    """word, then for each axis its score and the untrained model's (empty where the cell says why not)."""
    axes = panel.axes.axes()
    trained, base = panel.axis_scores(), panel.axis_scores(untrained=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["word", *[h for a in axes for h in (a.name, f"{a.name} (untrained)")]])
        for word in panel.axes.words():
            row = [word]
            for a in axes:
                for table in (trained, base):
                    v = table.get(word, {}).get(a.name)
                    row.append("" if v is None else f"{v:.4f}")
            out.writerow(row)
    return True
