"""Pure heart-rate-variability signal processing: NumPy/SciPy arrays in, frozen dataclasses out.

No I/O, no Qt, no asyncio, and nothing of the rest of the project is imported here.
"""
