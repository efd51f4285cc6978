"""``python -m whuffie``: the same as the ``whuffie`` command."""

from whuffie.cli import main

if __name__ == "__main__":
    main()
