"""``python -m gamekeeper``: the same as the ``gamekeeper`` command."""

from gamekeeper.cli import main

if __name__ == "__main__":
    main()
