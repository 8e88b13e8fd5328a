"""Test support: virtual heart-rate straps (bumble) and the bleak backend over them.

Lives with the tests, outside the installed product; ``tests/test_layering.py`` fails if any
module under ``biofeedback/``, ``hrv/`` or ``ui/`` imports it.
"""
