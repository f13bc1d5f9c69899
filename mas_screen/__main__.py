import os
import sys

# No command does linear algebra, yet OpenBLAS (loaded with numpy) starts a thread per core that
# spins for ~0.1 s of CPU at import: on two cores, time taken from reading and screening a batch.
# Set before numpy loads; a value the user set is kept.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from mas_screen.faces.cli.main import is_file_batch, main

file_batch = is_file_batch(sys.argv[1:])
if file_batch:
    # This process runs one batch and nothing else: the criteria's plain copy (criteria/detached.py)
    # serves it without importing pydantic (~0.1 s). Set here, not in the command, so that a
    # program calling main() in its own process keeps the validated criteria.
    from mas_screen.criteria.loading import prefer_plain_criteria

    prefer_plain_criteria()
try:
    code = main()
except BrokenPipeError:  # the reader stopped early (`... | head`): no traceback (Python docs, "SIGPIPE")
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    code = 1
if file_batch:  # its output is written and closed: end without the interpreter's teardown
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
sys.exit(code)
