"""`python -m newsletter` runs the command line."""

from .cli import main

main()
