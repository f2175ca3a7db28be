"""Questions one can ask a model's word vectors, without Qt: nearest neighbours by cosine in the full
space, scores on semantic axes (the article's "personality tags"), 2-D projections (PCA, t-SNE, axes)
with Procrustes alignment between frames, and the time-lapse frames a run writes to its folder."""
