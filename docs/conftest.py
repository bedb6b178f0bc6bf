"""pytest collection of the documentation: doctests of the hand-written pages only.

Run with ``pytest --doctest-glob='*.rst' docs``. Generated pages (the API stubs, the
example gallery, the built site) hold no doctests of their own and are skipped.
"""

import torch

# One torch thread per test process, as in tests/conftest.py: under `pytest -n 2` on two
# cores, two threads per process spin against each other and small fits run ~10x slower.
torch.set_num_threads(1)

collect_ignore_glob = ["_build/*", "auto_examples/*", "generated/*", "conf.py", "check_site.py"]
