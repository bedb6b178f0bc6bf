"""``python -m sknets`` runs the ``sknets`` command."""

import sys

from .cli import main

sys.exit(main())
