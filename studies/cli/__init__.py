"""The ``prunelab`` command line (``main``), with the ``dimension`` and ``theory`` commands in modules of
their own (``dimension``, ``theory_curves``)."""
from .main import main

__all__ = ["main"]
