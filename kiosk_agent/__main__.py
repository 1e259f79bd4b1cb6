"""Run the technician CLI as ``python -m kiosk_agent``."""

import sys

from kiosk_agent.cli import main

sys.exit(main())
