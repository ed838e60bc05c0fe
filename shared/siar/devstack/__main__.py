"""``python -m siar.devstack``: the same as the ``siar-dev`` command."""

from siar.devstack.cli import main

raise SystemExit(main())
