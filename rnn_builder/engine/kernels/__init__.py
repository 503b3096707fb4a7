"""The cells' kernels. ``reference`` holds the plain, textbook version of every cell that the
fast kernels (today in ``rnn_builder.engine.cells``) are tested against."""
