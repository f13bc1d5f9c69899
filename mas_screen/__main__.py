import sys

from mas_screen.cli import main

sys.exit(main())
