"""``python -m streams.cli``: the ``ingest`` command."""

import sys

from streams.cli.main import main

sys.exit(main())
