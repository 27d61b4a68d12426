"""`python -m webapp ...` runs the `clientflow` command (how `run` and the tests start worker processes)."""

from webapp.cli.commands import main

if __name__ == "__main__":
    main(prog_name="clientflow")
