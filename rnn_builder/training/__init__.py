"""Training: the trainer, data and batches, the built-in tasks, and training in a child process."""
