"""``python -m studies.cli`` runs the ``prunelab`` command line."""
import sys

from .main import main

sys.exit(main())
