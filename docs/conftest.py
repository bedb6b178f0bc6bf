"""pytest collection of the documentation: doctests of the hand-written pages only.

Run with ``pytest --doctest-glob='*.rst' docs``. Generated pages (the API stubs, the
example gallery, the built site) hold no doctests of their own and are skipped.
"""

collect_ignore_glob = ["_build/*", "auto_examples/*", "generated/*", "conf.py", "check_site.py"]
