"""Knowledge distillation: a frozen teacher's soft labels (and, optionally, its hidden states and attention)
taught to a smaller student, raced against the same student learning alone."""
