import sys

from mas_screen.faces.cli.main import main

sys.exit(main())
