"""``python -m llkv``: the llkv command line (see :mod:`llkv.cli`)."""

import sys

from llkv.cli import main

sys.exit(main())
