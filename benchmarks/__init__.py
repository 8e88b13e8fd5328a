"""Performance harness: each module here exposes ``run() -> list[dict]`` (see ``__main__``)."""
