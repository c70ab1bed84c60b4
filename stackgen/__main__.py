"""`python -m stackgen`: the same command as the `stackgen` script."""

from stackgen.cli import main

main(prog_name="stackgen")
