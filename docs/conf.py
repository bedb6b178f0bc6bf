"""Sphinx configuration of the sknets documentation.

The site builds offline: no intersphinx inventories are fetched, the theme uses its bundled
fonts and icons, and nothing is loaded from a CDN. ``docs/check_site.py`` verifies that.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

import torch

import sknets

DOCS_DIR = Path(__file__).resolve().parent
REPO_DIR = DOCS_DIR.parent
sys.path.insert(0, str(DOCS_DIR))  # for gallery_order

# The examples draw figures that sphinx-gallery collects; no window may open.
os.environ.setdefault("MPLBACKEND", "Agg")

# The examples run inside this process. One torch thread unless OMP_NUM_THREADS says
# otherwise: on an idle two-core machine two threads train the small example networks ~1.5x
# faster, but with any other process busy (a test run, a second build) they spin against
# each other and the examples run 10-40x slower -- the tests make the same choice.
if "OMP_NUM_THREADS" not in os.environ:
    torch.set_num_threads(1)

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
    # Included into comparison.rst, not a page of its own.
    "benchmark_results.rst",
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
autodoc_default_options: dict = {}
autodoc_member_order = "groupwise"
toc_object_entries_show_parents = "hide"  # "fit()" in a page's contents, not "MLPClassifier.fit()"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_validation_checks: set[str] = set()

# Classes document the members they inherit from sknets' base classes (``fit``,
# ``predict``…), but not the dozens a torch ``nn.Module`` or a scikit-learn mixin brings,
# except the few of the scikit-learn API users call directly.
FOREIGN_MEMBERS_KEPT = {"get_params", "set_params", "score", "fit_transform"}
# sklearn generates ``set_<method>_request`` methods for its metadata routing, documented by
# sklearn.
_METADATA_REQUEST = re.compile(r"set_\w+_request")


def _skip_member(app, what, name, obj, skip, options):
    if _METADATA_REQUEST.fullmatch(name) or name == "get_metadata_routing":
        return True
    defined_in = getattr(obj, "__module__", None)
    if isinstance(defined_in, str) and not defined_in.startswith("sknets"):
        return name not in FOREIGN_MEMBERS_KEPT
    return skip


# scikit-learn's docstrings link to labels of scikit-learn's own user guide, which this site
# does not have: keep the link text, drop the link.
_SKLEARN_REF = re.compile(r":ref:`([^`<]*?)\s*(?:<[^`>]*>)?`")


def _unlink_sklearn_refs(app, what, name, obj, options, lines):
    if getattr(obj, "__module__", "").startswith("sklearn"):
        lines[:] = [_SKLEARN_REF.sub(r"\1", line) for line in lines]


def _resolve_dotted_suffix(app, env, node, contnode):
    """Resolve ``:meth:`Class.method``` written in a docstring by its unique documented match.

    Sphinx looks a relative name up in the current module and class only; docstrings often
    name a method of a base class or a sibling module by its last components.
    """
    if node.get("refdomain") != "py" or node.get("refexplicit"):
        return None
    target = node["reftarget"].lstrip("~.")
    if "." not in target:
        return None
    domain = env.get_domain("py")
    matches = [name for name in domain.objects if name.endswith("." + target)]
    if len(matches) != 1:
        return None
    return domain.resolve_xref(
        env, node["refdoc"], app.builder, node["reftype"], matches[0], node, contnode
    )


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
# The examples' code and output need the width more than a second navigation column: the
# gallery index and the previous/next links already lead from one example to the next.
html_sidebars = {
    "index": [],
    "install": [],
    "auto_examples/*": [],
    # A five-column table.
    "user_guide/comparison": [],
}
html_context = {"default_mode": "light"}

# -- sphinx-gallery --------------------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": str(REPO_DIR / "examples"),
    "gallery_dirs": "auto_examples",
    # Which examples run (a regular expression on the path); set SKNETS_DOCS_EXAMPLES to
    # e.g. "plot_quickstart" to build faster while writing one example.
    "filename_pattern": os.environ.get("SKNETS_DOCS_EXAMPLES", r"/plot_"),
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
    "within_subsection_order": "gallery_order.ExampleOrder",
}

# -- copybutton: copy the code, not the ``>>>`` prompts or the output --------------------------
copybutton_prompt_text = r">>> |\.\.\. |\$ "
copybutton_prompt_is_regexp = True
copybutton_only_copy_prompt_lines = False


# -- the command-line reference is the real ``--help`` output ----------------------------------
def _command_parsers(parser: argparse.ArgumentParser, command: str):
    """Yield ``(command line, parser)`` for the parser and its sub-commands, depth first."""
    yield command, parser
    for action in parser._actions:  # argparse has no public accessor for sub-parsers
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _command_parsers(sub, f"{command} {name}")


def _write_cli_help(app) -> None:
    """Write ``sknets --help`` and every sub-command's help to generated/cli_help.txt."""
    from sknets.cli import build_parser

    # argparse wraps help text at $COLUMNS; fix it so the page does not depend on the terminal.
    previous = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "76"  # fits the API page's text column
    try:
        text = "\n".join(
            f"$ {command} --help\n{parser.format_help()}"
            for command, parser in _command_parsers(build_parser(), "sknets")
        )
    finally:
        if previous is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = previous
    target = DOCS_DIR / "generated" / "cli_help.txt"
    target.parent.mkdir(exist_ok=True)
    target.write_text(text)


# -- the study file format, from the one text the code and ``sknets tune --help`` also use -----
def _write_study_file_format(app) -> None:
    """Write generated/study_file.txt: every key of a study file, then a complete example."""
    from textwrap import indent

    from sknets._study_file import (
        STUDY_FILE_EXAMPLE,
        STUDY_FILE_KEYS,
        STUDY_FILE_SEARCH_SPACE_EXAMPLE,
    )

    text = "\n".join(
        [
            STUDY_FILE_KEYS,
            "A complete study file:",
            "",
            ".. code-block:: toml",
            "",
            indent(STUDY_FILE_EXAMPLE, "   "),
            'An explicit search space, in place of ``search_space = "auto"``:',
            "",
            ".. code-block:: toml",
            "",
            indent(STUDY_FILE_SEARCH_SPACE_EXAMPLE, "   "),
        ]
    )
    target = DOCS_DIR / "generated" / "study_file.txt"
    target.parent.mkdir(exist_ok=True)
    target.write_text(text)


def setup(app):
    app.connect("autodoc-skip-member", _skip_member)
    app.connect("autodoc-process-docstring", _unlink_sklearn_refs)
    app.connect("missing-reference", _resolve_dotted_suffix)
    app.connect("builder-inited", _write_cli_help)
    app.connect("builder-inited", _write_study_file_format)
