"""The PySide6 + pyqtgraph dashboard.

It may import :mod:`hrv` and :mod:`biofeedback`, never the other way round (the commands load
:mod:`ui.app` only when a window is wanted). :mod:`ui.app` composes a session controller with
:class:`ui.dashboard.Dashboard`; the widgets each hold one idea (:mod:`ui.trace`,
:mod:`ui.pacer_widget`, :mod:`ui.person_panel`, :mod:`ui.synchrony_panel`, ...).
"""
