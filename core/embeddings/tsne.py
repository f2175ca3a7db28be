"""t-SNE with scikit-learn, in a child process: the GUI's Python keeps its GIL (the event loop stays
smooth), Cancel ends the child at once, and progress is read from scikit-learn's own verbose lines
("[t-SNE] Iteration 50: …"), so nothing private of the library is touched."""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

MIN_POINTS = 5
MAX_ITER = 1000  # scikit-learn's default
_ROOT = Path(__file__).resolve().parents[2]
_ITERATION = re.compile(r"Iteration (\d+)")


class TsneError(ValueError):
    """t-SNE cannot run on this input (too few points, or the child failed); one line for a person."""


class Cancelled(Exception):
    """The caller asked to stop; no result."""


def check_input(vectors: np.ndarray, perplexity: float) -> None:
    n = len(vectors)
    if n < MIN_POINTS:
        raise TsneError(f"t-SNE needs at least {MIN_POINTS} points, this model has {n}")
    if not 1.0 <= perplexity < n:
        raise TsneError(f"perplexity must be between 1 and the number of points ({n}), not {perplexity}")


def effective_perplexity(perplexity: float, n: int) -> float:
    """scikit-learn needs perplexity < n: a small vocabulary gets a smaller one, said in the UI."""
    return float(min(perplexity, max(1.0, (n - 1) / 3)))


def run_tsne(
    vectors: np.ndarray,
    perplexity: float = 30.0,
    seed: int = 0,
    progress: Callable[[float], None] | None = None,
    cancelled: Callable[[], bool] = lambda: False,
    poll_s: float = 0.05,
) -> np.ndarray:
    """(n, d) → (n, 2). Calls `progress(fraction)` as iterations pass; raises Cancelled within `poll_s`
    (plus the time to end a process) once `cancelled()` is true."""
    x = np.asarray(vectors, dtype=np.float64)
    check_input(x, perplexity)
    with tempfile.TemporaryDirectory(prefix="tsne-") as tmp:
        src, dst = Path(tmp) / "in.npy", Path(tmp) / "out.npy"
        np.save(src, x)
        env = {**os.environ, "PYTHONPATH": str(_ROOT), "OMP_NUM_THREADS": "1"}
        cmd = [
            sys.executable,
            "-u",
            "-m",
            "core.embeddings.tsne",
            str(src),
            str(dst),
            str(perplexity),
            str(seed),
        ]
        child = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        lines: queue.Queue[str | None] = queue.Queue()

        def pump() -> None:
            for line in child.stdout:
                lines.put(line)
            lines.put(None)

        reader = threading.Thread(target=pump, daemon=True)
        reader.start()
        tail: list[str] = []
        try:
            while True:
                if cancelled():
                    raise Cancelled
                try:
                    line = lines.get(timeout=poll_s)
                except queue.Empty:
                    continue
                if line is None:
                    break
                tail = (tail + [line.strip()])[-3:]
                m = _ITERATION.search(line)
                if m and progress is not None:
                    progress(min(1.0, int(m.group(1)) / MAX_ITER))
            child.wait()
            if child.returncode != 0 or not dst.exists():
                raise TsneError("t-SNE failed: " + (tail[-1] if tail else f"exit status {child.returncode}"))
            return np.load(dst, allow_pickle=False)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
            reader.join(timeout=1.0)


def _main(argv: list[str]) -> None:
    """The child: read the vectors, fit, write the result (verbose lines go to the parent)."""
    from sklearn.manifold import TSNE

    src, dst, perplexity, seed = argv
    x = np.load(src, allow_pickle=False)
    t0 = time.perf_counter()
    tsne = TSNE(
        2, perplexity=float(perplexity), random_state=int(seed), init="pca", max_iter=MAX_ITER, verbose=2
    )
    y = tsne.fit_transform(x)
    np.save(dst + ".tmp.npy", y)
    os.replace(dst + ".tmp.npy", dst)
    print(f"done in {time.perf_counter() - t0:.2f} s", flush=True)


if __name__ == "__main__":
    _main(sys.argv[1:])
