"""``python -m rnn_builder``: see :mod:`rnn_builder.cli.main`."""

import sys

from rnn_builder.engine.threads import short_blas_spin

short_blas_spin()  # this program owns its process; before NumPy loads OpenBLAS

from rnn_builder.cli.main import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
