"""Entry script of the PyInstaller binary: the same ``angie`` command as the console script."""

from angie.cli import main

if __name__ == "__main__":
    main()
