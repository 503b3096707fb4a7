"""The command line, ``python -m rnn_builder``."""
