"""The attention panel: heatmap, head grid, word bars and the coreference report."""
