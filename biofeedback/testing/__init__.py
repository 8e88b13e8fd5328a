"""Test support shipped with the package so that tests and hidden CLI options can share it.

Nothing here is used in a normal session; its extra dependencies (``bumble``) come with the
``test`` extra and are imported lazily.
"""
