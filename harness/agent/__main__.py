"""`python3 -m agent` on the board (the folder holding agent/ is the working directory)."""

import sys

from .server import main

sys.exit(main(sys.argv[1:]))
