"""The folded graph and what is worked out from it: the model and its events, node types and their
registry, shapes, validation, layouts, unrolling and the plan.
"""
