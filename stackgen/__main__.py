"""`python -m stackgen`: the same command as the `stackgen` script."""

from .cli import main

main(prog_name="stackgen")
