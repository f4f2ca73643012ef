"""python -m moodcast.edge.cli"""

import sys

from moodcast.edge.cli.entry import main

sys.exit(main())
