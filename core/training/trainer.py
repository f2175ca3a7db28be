"""The trainer: a generator of events. `for event in Trainer(...).run(): ...` — the consumer decides the
pace (not asking for the next event is a pause); `stop()` may be called from any thread and is honoured
within one step. Every problem, from a bad corpus file to a NaN loss, ends the run with one `Failed`.

The loop reads like nanoGPT's: `_prepare` (text, tokenizer, model), then `_step` per batch, with
`_evaluate`, `_snapshot` and `_save` on their intervals, and `_finish` for the final scores."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from core.analysis import probes
from core.config import ModelConfig, TrainConfig
from core.cost.flops import model_flops_per_token
from core.data.corpus import Corpus, CorpusError
from core.data.files import file_corpus
from core.data.world import world_corpus
from core.embeddings.frames import FrameWriter
from core.events import Done, Eval, Event, Failed, Preparing, Snapshot, Started, Step
from core.model.checkpoint import Checkpoint, run_meta, save_checkpoint
from core.model.gpt import GPT
from core.model.tokenizer import Tokenizer, bounded_pieces, token_label, train_tokenizer
from core.runlog import RunLog
from core.training.batches import compute_loss, sample_batch, seed_dropout, step_seed
from core.training.distributed import Distributed
from core.training.optim import AdamW, adamw
from core.training.schedule import lr_at
from core.training.step import NonFiniteLoss, threads_for_now, train_step

STEP_EVENT_INTERVAL_S = 1 / 30  # at most ~30 Step events a second, whatever the step rate
VAL_BATCHES = 8
PREPARING_CHARS = 1_000_000  # a text this long takes a noticeable time to tokenize: Preparing events say so
EVAL_PROBES = 64  # probes scored at each periodic evaluation; all of them at the end


def auto_tokenizer(corpus: Corpus) -> str:
    """Chinese reads one character per token; the English world one word per token (its ~110 words);
    a user's English text byte-level BPE, which encodes anything."""
    if corpus.lang == "zh":
        return "char"
    return "word" if corpus.source == "world" else "bpe"


class _NonFiniteLoss(Exception):
    """The loss of a step was NaN or infinite (the run ends with Failed, the last checkpoint kept)."""


class _StoppedEarly(Exception):
    """Stop was asked while the run was still preparing: there is no model to save yet."""


@dataclass
class _Tally:
    """One run's fixed facts and running counts: steps, time in optimizer steps, the loss since the last
    Step event."""

    step: int
    first_step: int
    t_start: float  # the run's start (preparation included)
    train_start: float  # the loop's start
    tokens_per_step: int
    flops_per_token: float
    train_time: float = 0.0
    loss_sum: float = 0.0
    loss_count: int = 0
    last_emit: float = 0.0
    emit_step: int = 0


PIECE_CHARS = 1 << 16  # text is encoded in pieces this long: each library call holds the GIL only ~2 ms


class Trainer:
    def __init__(
        self,
        model_cfg: ModelConfig,
        train_cfg: TrainConfig,
        corpus_path: str | None = None,
        out_dir: str | None = None,
        preset: str = "custom",
        corpus: Corpus | None = None,
        resume: Checkpoint | None = None,
    ):
        """`resume`: a checkpoint saved by a run with `resumable` state; the run continues from its step
        with its weights, optimizer moments and tokenizer, and gives the same losses as if never stopped."""
        # Bound the configs now (vocab_size comes from the tokenizer later): a form gets its error at once.
        self.model_cfg = model_cfg.validate()
        self.train_cfg = train_cfg.validate()
        self.corpus_path = corpus_path
        self.out_dir = Path(out_dir) if out_dir else Path("runs") / time.strftime("%Y%m%d-%H%M%S")
        self.preset = preset
        self.corpus = corpus
        self.resume = resume
        self.dist = Distributed.from_env()
        self._stop = threading.Event()
        self.model: GPT | None = None
        self.tokenizer: Tokenizer | None = None
        self.optimizer: AdamW | None = None
        self._log: RunLog | None = None
        self._step_done = 0
        self._frames: FrameWriter | None = None  # every snapshot's vectors, kept in the run folder

    def stop(self) -> None:
        """Thread-safe: the run ends with Done(reason="stopped") after the current step."""
        self._stop.set()

    @property
    def checkpoint_path(self) -> Path:
        return self.out_dir / "model.safetensors"

    def run(self) -> Iterator[Event]:
        try:
            yield from self._run()
        except GeneratorExit:  # the consumer closed the run (window closed, discard): leave an end record
            self._end_record("done", Done("abandoned", {"steps": self._step_done}, self._last_good()))
            raise
        except _StoppedEarly:
            yield Done("stopped", {}, "")
        except Exception as e:  # the consumer gets one line, never a traceback
            text = str(e).strip().splitlines()[0] if str(e).strip() else ""
            # Our own errors (bad corpus, bad config, no optimizer state) speak for themselves.
            message = text if isinstance(e, ValueError) and text else f"{e.__class__.__name__}: {text}"
            failed = Failed(message, self._last_good(), bad_input=isinstance(e, ValueError))
            self._end_record("failed", failed)
            yield failed

    def _end_record(self, kind: str, event: Done | Failed) -> None:
        """The run's last line in metrics.jsonl, written once whatever way the run ends."""
        log, self._log = self._log, None
        if log is not None and log.path.parent.is_dir():
            try:
                log.write(kind, event)
            except OSError:  # a full disk must not hide the run's own message
                pass

    def _last_good(self) -> str:
        return str(self.checkpoint_path) if self.checkpoint_path.exists() else ""

    # -- the run ---------------------------------------------------------------------------------------

    def _prepare(self) -> Iterator[Preparing]:
        """Corpus, tokenizer, token ids. On a large text each stage that takes a while is reported (Preparing)
        and a stop is honoured between stages and between the pieces the text is encoded in; no library call
        gets an unbounded input (`bounded_pieces`)."""
        tc = self.train_cfg
        if self.corpus is None:
            if self.corpus_path:
                self.corpus = file_corpus(self.corpus_path)
            else:
                self.corpus = world_corpus(tc.lang, seed=tc.seed)
        corpus = self.corpus
        if self.resume:
            self.tokenizer = self.resume.tokenizer
        else:
            if len(corpus.train_text) > PREPARING_CHARS:  # a large text: say what the wait is for
                yield Preparing("tokenizer", 0, len(corpus.train_text))
                self._check_stop()
            kind = tc.tokenizer if tc.tokenizer != "auto" else auto_tokenizer(corpus)
            self.tokenizer = train_tokenizer(kind, corpus.train_text, tc.bpe_vocab)
        train = yield from self._encode(corpus.train_text)
        val = yield from self._encode(corpus.val_text)
        train_ids = self.dist.shard(torch.from_numpy(train))  # each rank reads its own part of the text
        val_ids = torch.from_numpy(val)
        block = self.model_cfg.block_size
        if len(train_ids) < block + 2 or len(val_ids) < block + 2:
            short = "training" if len(train_ids) < block + 2 else "validation (the last 10 %)"
            raise CorpusError(
                f"the {short} text is only {min(len(train_ids), len(val_ids))} tokens for a context of {block}"
                f" ({len(corpus.train_text) + len(corpus.val_text):,} characters in all): use a longer text"
                " or a shorter context"
            )
        self._check_stop()  # before the model exists: nothing to save, so the run just ends
        torch.set_num_threads(tc.threads or threads_for_now())
        torch.manual_seed(tc.seed)
        self.model_cfg = replace(self.model_cfg, vocab_size=self.tokenizer.vocab_size).validate()
        self.model = GPT(self.model_cfg).to(self.dist.device)
        self.optimizer = adamw(self.model, tc)
        self._params = list(self.model.parameters())
        if self.resume:
            self.model.load_state_dict(self.resume.model.state_dict())
            if not self.resume.optimizer_state:
                raise ValueError("this checkpoint has no optimizer state, so the run cannot be resumed exactly")
            self.optimizer.load_state_tensors(self.resume.optimizer_state)
        return train_ids.to(self.dist.device), val_ids.to(self.dist.device)

    def _run(self) -> Iterator[Event]:
        tc, dist, t_start = self.train_cfg, self.dist, time.perf_counter()
        dist.init()
        train_ids, val_ids = yield from self._prepare()
        model, cfg = self.model, self.model_cfg
        trained = dist.wrap(model)  # DDP all-reduces gradients across ranks; itself when alone
        lead = dist.rank == 0  # rank 0 alone evaluates, logs, saves and yields events
        log = self._log = RunLog(self.out_dir / "metrics.jsonl") if lead else None
        val_batches = [
            sample_batch(val_ids, min(tc.batch_size, 64), cfg.block_size, cfg.objective, self.tokenizer, gen)
            for gen in [torch.Generator().manual_seed(1234)]
            for _ in range(VAL_BATCHES)
        ]  # fixed held-out batches (the same every evaluation, so the curve is comparable)
        entity_words = sorted(self.corpus.categories)
        step = int(self.resume.meta.get("step", 0)) if self.resume else 0
        baseline = None
        if lead:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            labels = tuple(token_label(self.tokenizer, i) for i in range(self.tokenizer.vocab_size))
            categories = [self.corpus.categories[w] for w in entity_words]
            self._frames = FrameWriter(self.out_dir, entity_words, categories, labels)
            started = Started(
                str(self.out_dir),
                self.preset,
                model.n_params(),
                tc.steps,
                0.0 if tc.steps else tc.seconds,
                self.tokenizer.vocab_size,
                len(self.corpus.train_text),
            )
            log.write("started", started)
            yield started
            baseline = self._evaluate(step, val_batches, EVAL_PROBES)
            log.write("eval", baseline)
            yield baseline
            yield self._snapshot(step)

        now = time.perf_counter()
        tally = _Tally(
            step=step,
            first_step=step,
            t_start=t_start,
            train_start=now,
            tokens_per_step=tc.batch_size * cfg.block_size * dist.world_size,
            flops_per_token=model_flops_per_token(cfg),
            last_emit=now,
            emit_step=step,
        )
        model.train()
        last_save = time.perf_counter()
        while True:
            progress = (
                tally.step / tc.steps if tc.steps else (time.perf_counter() - tally.train_start) / tc.seconds
            )
            stop_now = self._stop.is_set()
            if dist.world_size > 1:  # every rank must leave the loop at the same step
                progress, stop_now = dist.agree(progress, stop_now)
            if progress >= 1.0 or stop_now:
                reason = "stopped" if stop_now and progress < 1.0 else "finished" if tc.steps else "time"
                break
            try:
                lr = self._step(trained, train_ids, tally, progress)
            except _NonFiniteLoss as e:
                failed = Failed(str(e), self._last_good())
                if lead:
                    self._end_record("failed", failed)
                    yield failed
                return
            self._step_done = tally.step
            if not lead:
                continue
            now = time.perf_counter()
            if now - tally.last_emit >= STEP_EVENT_INTERVAL_S or tally.step == tc.steps:
                event = self._step_event(tally, lr, now)
                log.write("step", event)
                yield event
                tally.loss_sum, tally.loss_count = 0.0, 0
                tally.last_emit, tally.emit_step = time.perf_counter(), tally.step
            if tally.step % tc.eval_every == 0:
                ev = self._evaluate(tally.step, val_batches, EVAL_PROBES)
                log.write("eval", ev)
                yield ev
            if tally.step % tc.snapshot_every == 0:
                yield self._snapshot(tally.step)
            due = tc.checkpoint_seconds and time.perf_counter() - last_save >= tc.checkpoint_seconds
            if due or (tc.checkpoint_every and tally.step % tc.checkpoint_every == 0):
                self._save(tally.step, {})
                last_save = time.perf_counter()

        divergence = dist.param_divergence(model)  # collective: every rank takes part
        dist.close()  # the last collective: the lead's final scores and save need no other rank
        if lead:
            yield from self._finish(reason, tally, divergence, val_batches, train_ids, baseline, log)

    def _check_stop(self) -> None:
        if self._stop.is_set():
            raise _StoppedEarly

    def _encode(self, text: str) -> Iterator[Preparing]:
        """Token ids of `text`, piece by piece; returns an int64 array (`ids = yield from self._encode(...)`).
        No Python list of every id: building one and copying it into a tensor held the GIL for ~200 ms
        (a window training beside it froze), so a tokenizer that encodes to an array does."""
        total = len(text)
        encode_array = getattr(self.tokenizer, "encode_array", None)
        parts: list[np.ndarray] = []
        done, last = 0, time.perf_counter()
        for piece in bounded_pieces(text, PIECE_CHARS):
            ids = encode_array(piece) if encode_array else np.asarray(self.tokenizer.encode(piece), np.int64)
            parts.append(ids)
            done += len(piece)
            if time.perf_counter() - last > 0.2:
                self._check_stop()
                yield Preparing("encoding", done, total)
                last = time.perf_counter()
        return np.concatenate(parts) if parts else np.zeros(0, np.int64)

    def _step(self, trained: torch.nn.Module, train_ids: torch.Tensor, tally: _Tally, progress: float) -> float:
        """One optimizer step on this step's batch; returns the learning rate it used."""
        tc, optimizer = self.train_cfg, self.optimizer
        t0 = time.perf_counter()
        lr = lr_at(tally.step, progress, tc)
        for group in optimizer.param_groups:
            group["lr"] = lr
        x, y = self._train_batch(train_ids, tally.step)
        seed_dropout(tc.seed, self.dist.rank, tally.step, self.dist.device)
        try:
            loss_value = train_step(trained, self._params, optimizer, x, y, tc.grad_clip)
        except NonFiniteLoss as e:
            raise _NonFiniteLoss(
                f"the loss became {e.args[0]} at step {tally.step + 1}: lower the learning rate and try again"
            ) from None
        tally.step += 1
        tally.train_time += time.perf_counter() - t0
        tally.loss_sum += loss_value
        tally.loss_count += 1
        return lr

    def _step_event(self, tally: _Tally, lr: float, now: float) -> Step:
        tc, step, tokens_per_step = self.train_cfg, tally.step, tally.tokens_per_step
        return Step(
            step,
            step * tokens_per_step,
            tally.loss_sum / tally.loss_count,
            lr,
            (step - tally.emit_step) * tokens_per_step / (now - tally.last_emit),
            step * tokens_per_step * tally.flops_per_token,
            now - tally.t_start,
            min(1.0, step / tc.steps if tc.steps else (now - tally.train_start) / tc.seconds),
        )

    def _finish(self, reason, tally, divergence, val_batches, train_ids, baseline, log):
        """The final scores, snapshot and checkpoint, then Done. After a stop the user is waiting: score
        the periodic probe subset, not every probe."""
        step, tokens_per_step, flops_per_token = tally.step, tally.tokens_per_step, tally.flops_per_token
        final = self._evaluate(step, val_batches, EVAL_PROBES if reason == "stopped" else None)
        log.write("eval", final)
        yield final
        yield self._snapshot(step)
        train_time = tally.train_time
        metrics = {
            "steps": step,
            "tokens": step * tokens_per_step,
            "tokens_per_s": (step - tally.first_step) * tokens_per_step / train_time if train_time else 0.0,
            "train_loss": self._train_loss_estimate(train_ids),
            "flops": step * tokens_per_step * flops_per_token,
            "elapsed_s": time.perf_counter() - tally.t_start,
            "train_seconds": train_time,
            "n_params": self.model.n_params(),
            "flops_per_token": flops_per_token,
            "world_size": self.dist.world_size,
            "max_rank_param_diff": divergence,
            "unigram_entropy": probes.unigram_entropy(train_ids.cpu().numpy(), self.tokenizer.vocab_size),
            **final.metrics,
            **{f"baseline_{k}": v for k, v in baseline.metrics.items()},
        }
        path = self._save(step, metrics)
        done = Done(reason, metrics, path)
        self._end_record("done", done)
        yield done

    def _train_batch(self, train_ids: torch.Tensor, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The batch for this step on this rank: a function of (seed, rank, step) alone, so a resumed
        run draws exactly the batches the uninterrupted run would have drawn."""
        cfg, tc = self.model_cfg, self.train_cfg
        gen = torch.Generator().manual_seed(step_seed(tc.seed, self.dist.rank, step))
        return sample_batch(train_ids, tc.batch_size, cfg.block_size, cfg.objective, self.tokenizer, gen)

    # -- pieces ----------------------------------------------------------------------------------------

    @torch.no_grad()
    def _train_loss_estimate(self, train_ids: torch.Tensor) -> float:
        """Loss on a few fresh training batches in eval mode, comparable with val_loss."""
        cfg = self.model_cfg
        self.model.eval()
        gen = torch.Generator().manual_seed(4321)
        batches = [
            sample_batch(train_ids, 64, cfg.block_size, cfg.objective, self.tokenizer, gen) for _ in range(8)
        ]
        losses = [compute_loss(self.model, x, y).item() for x, y in batches]
        self.model.train()
        return float(np.mean(losses))

    def _evaluate(self, step: int, val_batches, n_probes: int | None) -> Eval:
        model, tok, corpus = self.model, self.tokenizer, self.corpus
        model.eval()
        val_loss = float(np.mean([compute_loss(model, x, y).item() for x, y in val_batches]))
        metrics: dict = {"val_loss": val_loss}
        metrics.update(probes.probe_scores(model, tok, corpus, n_probes))
        model.train()
        return Eval(step, val_loss, metrics)

    @torch.no_grad()
    def _snapshot(self, step: int) -> Snapshot:
        model, tok, corpus = self.model, self.tokenizer, self.corpus
        view = probes.showcase_view(model, tok, corpus, self.model_cfg.block_size)
        token_vectors = model.wte.weight.detach().cpu().numpy().astype(np.float16)
        if self._frames is not None:
            self._frames.write(step, view[2], token_vectors)
        return Snapshot(
            step,
            *view,
            token_vectors,
            self._frames.token_labels if self._frames is not None else (),
        )

    def _save(self, step: int, metrics: dict) -> str:
        meta = run_meta(step, self.preset, metrics, self.corpus)
        return save_checkpoint(
            self.checkpoint_path,
            self.model,
            self.tokenizer,
            self.train_cfg,
            meta,
            self.optimizer.state_tensors(),
        )
