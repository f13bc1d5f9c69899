import os
import sys

from mas_screen.faces.cli.main import ends_without_teardown, main

code = main()
if ends_without_teardown(sys.argv[1:]):  # a file batch: its output is written and closed
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
sys.exit(code)
