"""``python -m salesradar`` runs the command line."""

from salesradar.cli.main import main

main()
