"""Order of the examples in the gallery: first steps, then images, sequences, tuning.

sphinx-gallery imports ``gallery_order.ExampleOrder`` by name (``conf.py`` puts this folder
on ``sys.path``), so the setting stays a string that Sphinx can cache.
"""

#: File-name prefixes in the order their examples appear; other examples follow by name.
PREFIXES = (
    "plot_quickstart",
    "plot_perceptron",
    "plot_early_stopping",
    "plot_regression_diabetes",
    "plot_cnn_digits",
    "plot_image_folder",
    "plot_cnn",
    "plot_regression_cnn",
    "plot_transfer",
    "plot_lstm",
    "plot_forecasting",
    "plot_text",
    "plot_tfidf",
    "plot_tuning",
    "plot_distributed",
)


class ExampleOrder:
    """Sort key of sphinx-gallery's ``within_subsection_order``."""

    def __init__(self, src_dir: str) -> None:
        self.src_dir = src_dir

    def __call__(self, filename: str) -> tuple[int, str]:
        rank = next(
            (index for index, prefix in enumerate(PREFIXES) if filename.startswith(prefix)),
            len(PREFIXES),
        )
        return rank, filename
