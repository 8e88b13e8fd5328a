"""The co-regulation monitor: heart-rate straps, sources, the streaming engine, the session
store and the command line. Never imports Qt (the dashboard lives in :mod:`ui`)."""

__version__ = "0.1.0"
