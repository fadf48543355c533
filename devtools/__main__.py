"""`python -m devtools dev` is `marketplace dev`: one command line (marketplace.cli), run from the checkout."""

import sys

from marketplace.cli import main

sys.exit(main(sys.argv[1:]))
