"""``python -m servicelevel`` runs the ``slm`` command line."""

from servicelevel.cli import main

main()
