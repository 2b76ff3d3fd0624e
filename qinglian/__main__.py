import sys

from qinglian.cli import main

# Guarded: spawned worker processes import __main__ again.
if __name__ == "__main__":
    sys.exit(main())
