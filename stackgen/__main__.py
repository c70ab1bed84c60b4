"""`python -m stackgen`: the same command as the `stackgen` script."""

from stackgen.launch import main

main(prog="stackgen")
