"""``python -m qfzz_chain`` runs the ``qfzz`` command line."""

from qfzz_chain.cli import main

main()
