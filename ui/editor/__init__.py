"""Editing a project: the document and its undo stack, commands, clipboard, palette, inspector,
problems, the gallery, and project and model files.
"""
