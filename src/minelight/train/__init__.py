"""Training (the ``[train]`` extra: PyTorch): runs, losses, distillation, checkpoints.

``TrainingError`` lives here, free of PyTorch, so the command line can name it without importing torch.
"""


class TrainingError(RuntimeError):
    """Training cannot go on (bad data, bad teacher, non-finite loss)."""
