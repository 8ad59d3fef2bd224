"""Real CPU inference pipelines whose results the guide renders."""
