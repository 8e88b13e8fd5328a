"""One module per ``biofeedback`` subcommand; see :mod:`biofeedback.cli`."""
