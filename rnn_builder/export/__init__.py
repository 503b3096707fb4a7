"""Leave with it: the trained network in formats other tools read (ONNX for now).

Imported lazily by the CLI, so that the rest of the program runs without ``onnx`` installed.
"""
