"""`python3 -m harness.agent` on the board (the folder holding the shipped harness/ is the working directory)."""

import sys

from .server import main

sys.exit(main(sys.argv[1:]))
