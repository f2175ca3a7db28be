"""Training text: the generated world corpus (with its probes) and a user's own files."""
