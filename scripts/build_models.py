"""Train the bundled models deterministically and write resources/models/<name>.safetensors + .json,
with their held-out metrics in resources/models/metrics.json.

    python3 scripts/build_models.py [--only default,cloze,teacher,default_en]

Step counts, not seconds, so the result does not depend on how fast this machine happens to be."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core import resources  # noqa: E402
from core.config import PRESETS  # noqa: E402
from core.events import Done, Eval, Failed  # noqa: E402
from core.training.trainer import Trainer  # noqa: E402

OUT = resources.models_dir()
# A masked model needs several times the causal model's steps before it answers …它是[MASK] reliably.
STEPS = {"default": 2500, "cloze": 8000, "teacher": 1500, "default_en": 1200}
# Bundled name -> (preset, world language); the English model is the 60-s demo's own run (seed 0 at the
# step count a quiet 2-core machine reaches in a minute), so the window shows what the demo gives.
BUILDS = {"default": ("default", "zh"), "cloze": ("cloze", "zh"), "teacher": ("teacher", "zh")}
BUILDS["default_en"] = ("default", "en")


def build(name: str) -> dict:
    preset_name, lang = BUILDS[name]
    preset = PRESETS[preset_name]
    cfg = replace(
        preset.train_for(lang), steps=STEPS[name], seconds=0.0, eval_every=500, snapshot_every=10**8, seed=0
    )
    with tempfile.TemporaryDirectory() as tmp:
        trainer = Trainer(preset.model, cfg, out_dir=tmp, preset=preset_name)
        for event in trainer.run():
            if isinstance(event, Eval):
                m = event.metrics
                print(
                    f"  {name} step {event.step}: val {event.val_loss:.3f} coref {m.get('coref_acc', 0):.2f} "
                    f"attn {m.get('attn_coref_mean', 0):.2f}",
                    flush=True,
                )
            if isinstance(event, Failed):
                raise SystemExit(f"{name}: {event.message}")
            if isinstance(event, Done):
                shutil.copyfile(Path(tmp) / "model.safetensors", OUT / f"{name}.safetensors")
                shutil.copyfile(Path(tmp) / "model.json", OUT / f"{name}.json")
                return event.metrics
    raise SystemExit(f"{name}: the run ended without a result")


def main() -> None:
    import torch

    torch.set_num_threads(1)  # same reduction order on every machine: the same weights wherever it runs
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", default=",".join(STEPS))
    names = parser.parse_args().only.split(",")
    OUT.mkdir(parents=True, exist_ok=True)
    summary_path = OUT / "metrics.json"
    for name in names:
        t0 = time.time()
        metrics = build(name)
        size = (OUT / f"{name}.safetensors").stat().st_size
        # Re-read just before writing: builds of different models may run side by side.
        summary = json.loads(summary_path.read_text()) if summary_path.exists() else {}
        summary[name] = {
            "steps": STEPS[name],
            "file_bytes": size,
            "built_in_s": round(time.time() - t0, 1),
            **{k: v for k, v in metrics.items() if not isinstance(v, dict)},
        }
        summary_path.write_text(json.dumps(summary, indent=1, ensure_ascii=False))
        print(f"{name}: {size / 1e6:.2f} MB, {time.time() - t0:.0f} s", flush=True)


if __name__ == "__main__":
    main()
