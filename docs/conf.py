"""Sphinx configuration of the sknets documentation.

The site builds offline: no intersphinx inventories are fetched, the theme uses its bundled
fonts and icons, and nothing is loaded from a CDN. ``docs/check_site.py`` verifies that.
"""

from __future__ import annotations

import argparse
import os
import re
from pathlib import Path

import sknets

DOCS_DIR = Path(__file__).resolve().parent
REPO_DIR = DOCS_DIR.parent

# Examples and doctests train small networks: keep them on the CPU with the same thread
# count everywhere, so printed figures do not depend on the machine building the docs.
os.environ.setdefault("MPLBACKEND", "Agg")

project = "sknets"
author = "the sknets developers"
copyright = "the sknets developers"  # noqa: A001 - the name Sphinx reads
release = sknets.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "sphinx_copybutton",
]

templates_path = ["_templates"]
exclude_patterns = [
    "_build",
    "conftest.py",
    # Included into comparison.rst, not a page of its own.
    "benchmark_results.rst",
    # sphinx-gallery's example sources (.py, .ipynb, .zip) sit next to the generated pages.
    "auto_examples/*.ipynb",
    "auto_examples/*.py",
    "auto_examples/*.zip",
    "auto_examples/*.md5",
    "auto_examples/*.codeobj.json",
]
root_doc = "index"
language = "en"

# Every cross-reference must resolve (-n): the ones below point into third-party packages whose
# inventories we do not fetch (the build is offline), so they cannot resolve here.
nitpicky = True
THIRD_PARTY = r"(torch|sklearn|numpy|pandas|optuna|skorch|PIL|joblib|scipy)(\..*)?"
nitpick_ignore_regex = [
    (r"py:.*", THIRD_PARTY),
    # numpydoc type phrases written in words, e.g. "array-like of shape (n_samples,)".
    (r"py:class", r"array-like|callable|optional|default.*|.*of shape.*"),
]

# -- autodoc / autosummary / numpydoc -------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = True
autodoc_typehints = "none"  # the numpydoc sections already give the types, in words
autodoc_default_options = {"members": True, "inherited-members": False}
autodoc_member_order = "groupwise"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_validation_checks: set[str] = set()

# sklearn generates one ``set_<method>_request`` per method that takes metadata; they belong to
# sklearn's metadata routing, documented by sklearn, and their docstrings refer to sklearn's
# own user guide labels.
_SKIPPED_MEMBER = re.compile(r"set_\w+_request")


def _skip_member(app, what, name, obj, skip, options):
    if _SKIPPED_MEMBER.fullmatch(name):
        return True
    return skip


# -- HTML ------------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"sknets {release}"
html_static_path = ["_static"]
html_css_files = ["sknets.css"]
html_show_sourcelink = False
html_last_updated_fmt = None
html_theme_options = {
    # Nothing that would reach the network: no version switcher, analytics or icon links
    # (FontAwesome icons are bundled with the theme; no web fonts are requested).
    "navbar_end": ["theme-switcher"],
    "icon_links": [],
    "show_prev_next": True,
    "navigation_with_keys": False,
    "secondary_sidebar_items": ["page-toc", "sg_download_links", "sg_launcher_links"],
    "show_toc_level": 2,
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_sidebars = {
    "index": [],
    "install": [],
}
html_context = {"default_mode": "light"}

# -- sphinx-gallery --------------------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": str(REPO_DIR / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"__init__\.py",
    # Every example runs at build time; a failing one fails the build.
    "abort_on_example_error": False,
    "only_warn_on_example_error": False,
    "doc_module": ("sknets",),
    "backreferences_dir": "generated/backreferences",
    "reference_url": {"sknets": None},
    "remove_config_comments": True,
    "show_memory": False,
    "min_reported_time": 0,
    "download_all_examples": False,
    # The timing summary page loads DataTables from a CDN; the build must stay offline.
    "write_computation_times": False,
    "matplotlib_animations": False,
    "within_subsection_order": "FileNameSortKey",
}

# -- copybutton: copy the code, not the ``>>>`` prompts or the output --------------------------
copybutton_prompt_text = r">>> |\.\.\. |\$ "
copybutton_prompt_is_regexp = True
copybutton_only_copy_prompt_lines = False


# -- the command-line reference is the real ``--help`` output ----------------------------------
def _write_cli_help(app) -> None:
    """Write ``sknets --help`` and each sub-command's help to generated/cli_help.txt."""
    from sknets.cli import build_parser

    parser = build_parser()
    sections = [("sknets --help", parser)]
    for action in parser._actions:  # argparse has no public accessor for sub-parsers
        if isinstance(action, argparse._SubParsersAction):
            sections += [(f"sknets {name} --help", sub) for name, sub in action.choices.items()]
    # argparse wraps help text at $COLUMNS; fix it so the page does not depend on the terminal.
    previous = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "88"
    try:
        text = "\n".join(f"$ {command}\n{sub.format_help()}" for command, sub in sections)
    finally:
        if previous is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = previous
    target = DOCS_DIR / "generated" / "cli_help.txt"
    target.parent.mkdir(exist_ok=True)
    target.write_text(text)


def setup(app):
    app.connect("autodoc-skip-member", _skip_member)
    app.connect("builder-inited", _write_cli_help)
