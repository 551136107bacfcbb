"""``python -m exptable_desktop`` is the ``exptable`` command (and the packaged build's entry point)."""
import sys

from exptable_desktop.cli import main

if __name__ == "__main__":
    sys.exit(main())
