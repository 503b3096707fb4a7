"""``python -m rnn_builder``: see :mod:`rnn_builder.cli.main`."""

import sys

from rnn_builder.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
