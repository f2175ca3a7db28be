"""The distillation lab: the race (taught vs alone), its verdict, and the soft labels."""
