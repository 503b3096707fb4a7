"""Source files copied into a PyTorch export folder (read as text by ``export.pytorch``, never
imported by RNN Builder, so that exporting needs no torch): ``model_helpers.py`` becomes the
top of the generated ``model.py``, ``train.py`` the folder's training script."""
