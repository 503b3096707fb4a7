"""Leave with it: the trained network in formats other tools read — ONNX (``onnx``), a PyTorch
project folder (``pytorch``) — and trained weights brought back (``weights_import``).

Imported lazily by the CLI, so that the rest of the program runs without ``onnx``; nothing here
needs ``torch`` except checking a PyTorch export (``pytorch_check``).
"""
