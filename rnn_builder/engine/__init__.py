"""What runs a plan: the executor, cells and their kernels, operations, losses, optimizers,
stepping, and the runtime settings of a pass and of the process.
"""
