"""The distiller: a generator of events, like the trainer (`for event in Distiller(...).run()`; not asking for
the next event is a pause; `stop()` from any thread is honoured within one step; every problem ends the run
with one `Failed`).

It runs the race: two students of one shape, built from the same initial weights, trained on the same
batches in the same order for the same steps — one taught by the frozen teacher, one alone (plain
cross-entropy). Events speak for the distilled student; each `Eval` also carries the lone student's scores
under `scratch_…` keys and the teacher's validation loss, and `Done.metrics` holds the verdict."""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from core.analysis import probes
from core.config import ModelConfig, TrainConfig
from core.cost.flops import model_flops_per_token
from core.data.corpus import Corpus
from core.data.files import file_corpus
from core.data.world import world_corpus
from core.distill import teacher as teachers
from core.distill.config import DistillConfig
from core.distill.losses import attention_loss, hidden_loss, kd_loss, kd_loss_topk, layer_map
from core.distill.verdict import race_verdict
from core.events import Done, Eval, Event, Failed, Snapshot, Started, Step
from core.model.checkpoint import Checkpoint, load_checkpoint, run_meta, save_checkpoint
from core.model.gpt import GPT
from core.model.tokenizer import train_tokenizer
from core.runlog import RunLog
from core.training.batches import compute_loss, sample_batch, seed_dropout, step_seed
from core.training.distributed import Distributed
from core.training.optim import AdamW, adamw
from core.training.schedule import lr_at

STEP_EVENT_INTERVAL_S = 1 / 30
VAL_BATCHES = 8
EVAL_PROBES = 64  # probes at each periodic evaluation; all of them at the end
STUDENTS = ("distilled", "scratch")


class _NonFiniteLoss(Exception):
    pass


@dataclass
class _Student:
    """One lane of the race: its model, optimizer, running counts and what it saw (for the tests)."""

    name: str
    model: GPT
    trained: torch.nn.Module  # the model, or its DDP wrapper
    optimizer: AdamW
    projections: torch.nn.ModuleList | None = None  # student width → teacher width, per mapped layer
    seconds: float = 0.0  # time in its own steps (the teacher's forward included for the distilled one)
    loss_sum: float = 0.0
    loss_count: int = 0
    batch_digest: hashlib._Hash = field(default_factory=hashlib.sha256)
    initial_digest: str = ""
    evals: list[tuple[int, float, float]] = field(default_factory=list)  # (step, val_loss, coref_acc)


def weights_digest(model: torch.nn.Module) -> str:
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().numpy().tobytes())
    return digest.hexdigest()


def eval_interval(steps: int) -> int:
    """About 30 evaluations a race: the steps-to-match resolution is 1/30 of the budget."""
    return max(10, steps // 30)


class Distiller:
    def __init__(
        self,
        teacher: Checkpoint | str,
        student_cfg: ModelConfig,
        train_cfg: TrainConfig,
        distill_cfg: DistillConfig | None = None,
        out_dir: str | None = None,
        preset: str = "default",
        corpus: Corpus | None = None,
    ):
        """`teacher`: a loaded checkpoint or a path (loaded in `run`, so a bad file becomes Failed there and
        a ValueError from `prepare()`). The corpus is the teacher's own (its world and seed, or its file):
        the students' held-out probes must be held out from the teacher too."""
        self.student_cfg = student_cfg.validate()
        self.train_cfg = train_cfg.validate()
        if not self.train_cfg.steps:
            raise ValueError("a race is measured in steps: give a number of steps")
        self.distill_cfg = (distill_cfg or DistillConfig()).validate()
        self.teacher_source = teacher
        self.out_dir = Path(out_dir) if out_dir else Path("runs") / time.strftime("distill-%Y%m%d-%H%M%S")
        self.preset = preset
        self.corpus = corpus
        self.dist = Distributed.from_env()
        self._stop = threading.Event()
        self.teacher: Checkpoint | None = None
        self.students: dict[str, _Student] = {}
        self.cache: teachers.TeacherCache | None = None
        self.tokenizer = None

    def stop(self) -> None:
        """Thread-safe: the race ends with Done(reason="stopped") after the current step."""
        self._stop.set()

    def checkpoint_path(self, student: str = "distilled") -> Path:
        return self.out_dir / student / "model.safetensors"

    def run(self) -> Iterator[Event]:
        try:
            yield from self._run()
        except Exception as e:
            text = str(e).strip().splitlines()[0] if str(e).strip() else ""
            message = text if isinstance(e, ValueError) and text else f"{e.__class__.__name__}: {text}"
            yield Failed(message, self._last_good())

    def _last_good(self) -> str:
        path = self.checkpoint_path()
        return str(path) if path.exists() else ""

    # -- preparation ------------------------------------------------------------------------------------

    def check(self) -> None:
        """Load the teacher and the corpus and check they can teach this student; raises ValueError (one line)
        for what a person must fix. `run` calls it; a CLI calls it first, to tell bad input from a failure."""
        if self.tokenizer is not None:
            return
        tc = self.train_cfg
        src = self.teacher_source
        self.teacher = load_checkpoint(src) if isinstance(src, (str, Path)) else src
        teacher = self.teacher
        teachers.freeze(teacher.model)
        if self.corpus is None:
            source = teacher.meta.get("corpus", "world")
            lang = teacher.meta.get("lang", teacher.train_cfg.lang)
            if source == "world":
                self.corpus = world_corpus(lang, seed=teacher.train_cfg.seed)
            else:
                if not Path(source).is_file():
                    raise ValueError(
                        f"the teacher's training text {source} is not here, so no student can share it"
                    )
                self.corpus = file_corpus(source)
        corpus = self.corpus
        kind = tc.tokenizer if tc.tokenizer != "auto" else ("char" if corpus.lang == "zh" else "bpe")
        student_tok = train_tokenizer(kind, corpus.train_text, tc.bpe_vocab)  # what the student alone would use
        teachers.check_compatible(teacher, student_tok, self.student_cfg.objective, self.student_cfg.block_size)
        self.tokenizer = teacher.tokenizer

    def prepare(self) -> tuple[torch.Tensor, torch.Tensor]:
        """check(), then the token ids and both students."""
        self.check()
        tc, dc, teacher, corpus = self.train_cfg, self.distill_cfg, self.teacher, self.corpus
        train_ids = torch.tensor(self.tokenizer.encode(corpus.train_text), dtype=torch.long)
        train_ids = self.dist.shard(train_ids)
        val_ids = torch.tensor(self.tokenizer.encode(corpus.val_text), dtype=torch.long)
        if tc.threads:
            torch.set_num_threads(tc.threads)
        self.student_cfg = replace(self.student_cfg, vocab_size=self.tokenizer.vocab_size).validate()
        device = self.dist.device
        teacher.model.to(device)
        torch.manual_seed(tc.seed)
        first = GPT(self.student_cfg).to(device)
        initial = {k: v.clone() for k, v in first.state_dict().items()}
        names = STUDENTS if dc.compare_scratch else STUDENTS[:1]
        for name in names:
            model = first if name == "distilled" else GPT(self.student_cfg).to(device)
            model.load_state_dict(initial)  # the same start, bit for bit
            optimizer = adamw(model, tc)
            projections = None
            if name == "distilled" and dc.needs_hidden:
                width_s, width_t = self.student_cfg.n_embd, teacher.model_cfg.n_embd
                pairs = layer_map(self.student_cfg.n_layer, teacher.model_cfg.n_layer)
                projections = torch.nn.ModuleList(
                    torch.nn.Linear(width_s, width_t, bias=False) if width_s != width_t else torch.nn.Identity()
                    for _ in pairs
                ).to(device)
                extra = [p for p in projections.parameters()]
                if extra:
                    optimizer.add_param_group({"params": extra, "weight_decay": 0.0})
            self.students[name] = _Student(
                name, model, self.dist.wrap(model), optimizer, projections, initial_digest=weights_digest(model)
            )
        return train_ids.to(device), val_ids.to(device)

    def batch_at(self, train_ids: torch.Tensor, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The batch of this step on this rank, the trainer's rule: a function of (seed, rank, step)."""
        cfg, tc = self.student_cfg, self.train_cfg
        gen = torch.Generator().manual_seed(step_seed(tc.seed, self.dist.rank, step))
        return sample_batch(train_ids, tc.batch_size, cfg.block_size, cfg.objective, self.tokenizer, gen)

    def _make_cache(self, train_ids: torch.Tensor) -> None:
        tc, dc = self.train_cfg, self.distill_cfg
        key = (
            teachers_key(self.teacher),
            tc.seed,
            self.dist.rank,
            self.dist.world_size,
            tc.batch_size,
            self.student_cfg.block_size,
            dc.top_k,
            dc.temperature,
        )
        self.cache = teachers.cached(key, tc.steps)
        if self.cache is None:
            self.cache = teachers.TeacherCache.build(
                key,
                self.teacher.model,
                lambda s: self.batch_at(train_ids, s),
                tc.steps,
                dc.top_k,
                dc.temperature,
                self._stop.is_set,
            )
            if self.cache is not None:
                teachers.remember(self.cache)

    # -- the race ---------------------------------------------------------------------------------------

    def _run(self) -> Iterator[Event]:
        tc, dc, dist = self.train_cfg, self.distill_cfg, self.dist
        t_start = time.perf_counter()
        dist.init()
        train_ids, val_ids = self.prepare()
        lead = dist.rank == 0
        log = RunLog(self.out_dir / "metrics.jsonl") if lead else None
        cfg = self.student_cfg
        gen = torch.Generator().manual_seed(1234)  # the trainer's fixed held-out batches
        val_batches = [
            sample_batch(val_ids, min(tc.batch_size, 64), cfg.block_size, cfg.objective, self.tokenizer, gen)
            for _ in range(VAL_BATCHES)
        ]
        self._val_batches = val_batches
        distilled = self.students["distilled"]
        tokens_per_step = tc.batch_size * cfg.block_size * dist.world_size
        self._flops_student = model_flops_per_token(cfg)
        self._flops_teacher_fwd = model_flops_per_token(self.teacher.model_cfg) / 3.0
        if lead:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            started = Started(
                str(self.out_dir),
                f"distill:{self.preset}",
                distilled.model.n_params(),
                tc.steps,
                0.0,
                self.tokenizer.vocab_size,
                len(self.corpus.train_text),
            )
            log.write("started", started)
            yield started
        cache_seconds = 0.0
        if dc.cache_teacher:
            self._make_cache(train_ids)
            if self.cache is None:  # stopped while the teacher's outputs were being made
                if lead:
                    done = Done("stopped", {"steps": 0}, "")
                    log.write("done", done)
                    yield done
                return
            cache_seconds = 0.0 if self.cache.reused else self.cache.seconds
        teacher_val = self._val_loss(self.teacher.model, val_batches)
        self._teacher_val = teacher_val
        if lead:
            baseline = self._evaluate(0, val_batches, EVAL_PROBES)
            log.write("eval", baseline)
            yield baseline
            self._baseline = baseline

        every = eval_interval(tc.steps)
        step, last_emit, emit_step = 0, time.perf_counter(), 0
        train_start = time.perf_counter()
        for s in self.students.values():
            s.model.train()
        reason = "finished"
        while True:
            progress = step / tc.steps
            stop_now = self._stop.is_set()
            if dist.world_size > 1:
                progress, stop_now = dist.agree(progress, stop_now)
            if progress >= 1.0 or stop_now:
                reason = "stopped" if stop_now and progress < 1.0 else "finished"
                break
            try:
                lr = self._race_step(train_ids, step, progress)
            except _NonFiniteLoss as e:
                failed = Failed(str(e), self._last_good())
                if lead:
                    log.write("failed", failed)
                    yield failed
                return
            step += 1
            if not lead:
                continue
            now = time.perf_counter()
            if now - last_emit >= STEP_EVENT_INTERVAL_S or step == tc.steps:
                d = distilled
                rate = (step - emit_step) * tokens_per_step / max(now - last_emit, 1e-9)
                per_token = self._flops_student + (0.0 if dc.cache_teacher else self._flops_teacher_fwd)
                event = Step(
                    step,
                    step * tokens_per_step,
                    d.loss_sum / max(d.loss_count, 1),
                    lr,
                    rate,
                    step * tokens_per_step * per_token,
                    now - t_start,
                    step / tc.steps,
                )
                log.write("step", event)
                yield event
                for s in self.students.values():
                    s.loss_sum, s.loss_count = 0.0, 0
                last_emit, emit_step = time.perf_counter(), step
            if step % every == 0 and step < tc.steps:
                ev = self._evaluate(step, val_batches, EVAL_PROBES)
                log.write("eval", ev)
                yield ev
                self._save_all(step, {})

        dist.close()  # every rank together: the lead's final scores and saves need no other rank
        if not lead:
            return
        final = self._evaluate(step, val_batches, EVAL_PROBES if reason == "stopped" else None)
        log.write("eval", final)
        yield final
        yield self._snapshot(step)
        metrics = self._final_metrics(step, tokens_per_step, final, train_start, t_start, cache_seconds)
        self._save_all(step, metrics)
        done = Done(reason, metrics, str(self.checkpoint_path()))
        log.write("done", done)
        yield done

    def _race_step(self, train_ids: torch.Tensor, step: int, progress: float) -> float:
        """One optimizer step for each student, on the same batch."""
        tc = self.train_cfg
        lr = lr_at(step, progress, tc)
        x, y = self.batch_at(train_ids, step)
        for s in self.students.values():
            t0 = time.perf_counter()
            s.batch_digest.update(x.cpu().numpy().tobytes())
            s.batch_digest.update(y.cpu().numpy().tobytes())
            for group in s.optimizer.param_groups:
                group["lr"] = lr
            # The same masks for each student: the race's students drop the same units (the trainer's rule).
            seed_dropout(tc.seed, self.dist.rank, step, self.dist.device)
            if s.name == "distilled":
                loss = self.distill_loss(s, x, y, step)
            else:
                loss = compute_loss(s.trained, x, y)
            value = loss.item()
            if not math.isfinite(value):
                raise _NonFiniteLoss(
                    f"the {s.name} student's loss became {value} at step {step + 1}: lower the learning rate, "
                    "the temperature or the weights and try again"
                )
            s.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if tc.grad_clip:
                params = [p for g in s.optimizer.param_groups for p in g["params"]]
                torch.nn.utils.clip_grad_norm_(params, tc.grad_clip)
            s.optimizer.step()
            s.seconds += time.perf_counter() - t0
            s.loss_sum += value
            s.loss_count += 1
        return lr

    def distill_loss(self, s: _Student, x: torch.Tensor, y: torch.Tensor, step: int) -> torch.Tensor:
        """α·T²·KL(teacher_T ‖ student_T) + (1 − α)·CE + w_h·hidden MSE + w_a·attention KL."""
        dc = self.distill_cfg
        out = s.trained(x, need_attn=dc.needs_attention, need_hidden=dc.needs_hidden)
        mask = y != -100
        ce = F.cross_entropy(out.logits.view(-1, out.logits.size(-1)), y.view(-1), ignore_index=-100)
        if dc.cache_teacher:
            t = self.cache.outputs(step)
            soft = kd_loss_topk(out.logits, t.top_logp, t.top_indices, dc.temperature, mask)
        else:
            t = teachers.live_outputs(self.teacher.model, x, dc.needs_hidden, dc.needs_attention)
            soft = kd_loss(out.logits, t.logits, dc.temperature, mask)
        loss = dc.alpha * soft + (1 - dc.alpha) * ce
        pairs = layer_map(self.student_cfg.n_layer, self.teacher.model_cfg.n_layer)
        if dc.needs_hidden:
            loss = loss + dc.hidden_weight * hidden_loss(
                out.hidden_states[1:], t.hidden, list(s.projections), pairs
            )
        if dc.needs_attention:
            loss = loss + dc.attn_weight * attention_loss(out.attentions, t.attentions, pairs)
        return loss

    # -- measuring --------------------------------------------------------------------------------------

    @torch.no_grad()
    def _val_loss(self, model: GPT, val_batches) -> float:
        was = model.training
        model.eval()
        value = float(np.mean([compute_loss(model, x, y).item() for x, y in val_batches]))
        model.train(was)
        return value

    def _scores(self, model: GPT, val_batches, n_probes: int | None, full: bool) -> dict:
        corpus, tok = self.corpus, self.tokenizer
        metrics: dict = {"val_loss": self._val_loss(model, val_batches)}
        return metrics | probes.probe_scores(model, tok, corpus, n_probes, full)

    def _evaluate(self, step: int, val_batches, n_probes: int | None) -> Eval:
        full = n_probes is None
        metrics: dict = {}
        for s in self.students.values():
            scores = self._scores(s.model, val_batches, n_probes, full)
            s.evals.append((step, scores["val_loss"], float(scores.get("coref_acc", 0.0))))
            prefix = "" if s.name == "distilled" else "scratch_"
            metrics.update({f"{prefix}{k}": v for k, v in scores.items()})
        metrics["teacher_val_loss"] = self._teacher_val
        return Eval(step, metrics["val_loss"], metrics)

    @torch.no_grad()
    def _snapshot(self, step: int) -> Snapshot:
        model, block = self.students["distilled"].model, self.student_cfg.block_size
        return Snapshot(step, *probes.showcase_view(model, self.tokenizer, self.corpus, block))

    def _final_metrics(self, step, tokens_per_step, final, train_start, t_start, cache_seconds) -> dict:
        tc, dc = self.train_cfg, self.distill_cfg
        distilled = self.students["distilled"]
        teacher_metrics = self.teacher.meta.get("metrics", {}) if isinstance(self.teacher.meta, dict) else {}
        teacher_flops = teacher_metrics.get("flops")
        metrics: dict = {
            "steps": step,
            "tokens": step * tokens_per_step,
            "n_params": distilled.model.n_params(),
            "teacher_params": self.teacher.model.n_params(),
            "teacher_path": str(self.teacher.path),
            "student_preset": self.preset,
            "seed": tc.seed,
            "temperature": dc.temperature,
            "alpha": dc.alpha,
            "hidden_weight": dc.hidden_weight,
            "attn_weight": dc.attn_weight,
            "cache_teacher": dc.cache_teacher,
            "top_k": dc.top_k if dc.cache_teacher else None,
            "student_flops_per_token": self._flops_student,
            "teacher_forward_flops_per_token": self._flops_teacher_fwd,
            "teacher_val_loss": self._teacher_val,
            "teacher_training_flops": teacher_flops,
            "elapsed_s": time.perf_counter() - t_start,
            "train_seconds": time.perf_counter() - train_start,
            "distilled_seconds": distilled.seconds,
            "teacher_cache_seconds": cache_seconds,
            "teacher_cache_reused": bool(self.cache and self.cache.reused),
            "teacher_cache_bytes": self.cache.nbytes if self.cache else 0,
            **{k: v for k, v in final.metrics.items()},
            **{f"baseline_{k}": v for k, v in self._baseline.metrics.items() if not k.startswith("scratch_")},
        }
        # The teacher scored here, on the same held-out probes and validation batches as the students.
        teacher_scores = self._scores(self.teacher.model, self._val_batches, None, True)
        metrics.update({f"teacher_{k}": v for k, v in teacher_scores.items()})
        if "scratch" in self.students:
            scratch = self.students["scratch"]
            metrics["scratch_seconds"] = scratch.seconds
            metrics["step_time_ratio"] = distilled.seconds / scratch.seconds if scratch.seconds else None
            metrics.update(
                race_verdict(
                    distilled.evals,
                    scratch.evals,
                    step,
                    tokens_per_step,
                    self._flops_student,
                    self._flops_teacher_fwd,
                    teacher_flops,
                )
            )
            metrics["steps"] = step
        return metrics

    def _save_all(self, step: int, metrics: dict) -> None:
        if self.dist.rank != 0:
            return
        for s in self.students.values():
            meta = run_meta(
                step, self.preset, metrics, self.corpus, student=s.name, teacher=str(self.teacher.path)
            )
            save_checkpoint(self.checkpoint_path(s.name), s.model, self.tokenizer, self.train_cfg, meta)


def teachers_key(ckpt: Checkpoint) -> str:
    """Which teacher made a cache: its weights' digest (two files with the same weights share one)."""
    return weights_digest(ckpt.model)
