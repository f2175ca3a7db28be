"""Bundled data the wheel carries: models/, data/ and fonts/. Code finds it through core.resources only."""
