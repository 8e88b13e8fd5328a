"""The PySide6 + pyqtgraph dashboard (not built yet).

This package will hold the dashboard; it may import :mod:`hrv` and :mod:`biofeedback`, never
the other way round. Until it exists, ``biofeedback demo`` and ``replay`` show the terminal
view (:mod:`biofeedback.terminal`).
"""
