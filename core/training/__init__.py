"""The training loop and its parts: batches, schedule, optimizer, several processes."""
