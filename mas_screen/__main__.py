import os
import sys

# No command does linear algebra, yet OpenBLAS (loaded with numpy) starts a thread per core that
# spins for ~0.1 s of CPU at import: on two cores, time taken from reading and screening a batch.
# Set before numpy loads; a value the user set is kept.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from mas_screen.faces.cli.main import ends_without_teardown, main

code = main()
if ends_without_teardown(sys.argv[1:]):  # a file batch: its output is written and closed
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
sys.exit(code)
