"""2-D pictures of vectors: PCA (instant), and the orthogonal Procrustes rotation that lines one frame of
a time-lapse up with another, so that points move between frames instead of the whole map spinning or
flipping (PCA's axes are only defined up to rotation and sign)."""

from __future__ import annotations

import numpy as np


def pca_2d(vectors: np.ndarray) -> np.ndarray:
    """(n, d) → (n, 2): the centred vectors on their two directions of largest variance."""
    x = np.asarray(vectors, dtype=np.float64)
    if x.ndim != 2 or len(x) == 0:
        return np.zeros((0, 2))
    x = x - x.mean(axis=0)
    # The top two eigenvectors of the d × d scatter matrix: the SVD's directions at a fraction of its cost
    # for n ≫ d (500 × 64: one matrix product and a 64 × 64 eigensolve).
    _, vecs = np.linalg.eigh(x.T @ x)
    comps = np.zeros((2, x.shape[1]))
    top = vecs[:, ::-1][:, :2].T
    comps[: len(top)] = top
    return x @ comps.T


def procrustes(x: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """`x` (n, 2) rotated (or reflected) about its centre to best match `reference` in least squares,
    then moved onto the reference's centre. No scaling: distances within a frame stay as they are."""
    x = np.asarray(x, dtype=np.float64)
    ref = np.asarray(reference, dtype=np.float64)
    if x.shape != ref.shape or len(x) == 0:
        return x.copy()
    xc, rc = x - x.mean(axis=0), ref - ref.mean(axis=0)
    u, _, vt = np.linalg.svd(xc.T @ rc)
    return xc @ (u @ vt) + ref.mean(axis=0)


def orient(coords: np.ndarray) -> np.ndarray:
    """A fixed sign for a lone PCA picture: the point farthest along each axis lies on its positive side."""
    out = np.array(coords, dtype=np.float64)
    for k in range(out.shape[1] if out.ndim == 2 else 0):
        if len(out) and out[np.argmax(np.abs(out[:, k])), k] < 0:
            out[:, k] *= -1
    return out


def aligned_pca(frames: list[np.ndarray]) -> list[np.ndarray]:
    """PCA of every frame (n, d), each rotated onto the last frame's picture (itself oriented)."""
    if not frames:
        return []
    last = orient(pca_2d(frames[-1]))
    return [procrustes(pca_2d(f), last) for f in frames[:-1]] + [last]
