"""The format of the study file that ``sknets tune`` reads, written once.

The same text is the Parameters section of :class:`sknets.tuning.config.TuneConfig` (the API
reference), a section of the user guide's tuning page (written by ``docs/conf.py``) and the
epilog of ``sknets tune --help``. It lives here, apart from ``sknets.tuning``, because
building the command's parser must not import Optuna.
"""

#: Every key of a study file, in numpydoc's parameter layout (also an RST definition list).
STUDY_FILE_KEYS = """\
estimator : string, required
    The sknets estimator to tune, by class name: a classifier (``"MLPClassifier"``,
    ``"CNNClassifier"``, ``"RNNClassifier"``) or a regressor (``"MLPRegressor"``,
    ``"CNNRegressor"``, ``"RNNRegressor"``).
data : table, required
    Exactly one of two sources. ``dataset = "digits"`` names a dataset shipped with
    scikit-learn: for classifiers ``"digits"``, ``"iris"``, ``"wine"`` or
    ``"breast_cancer"``; for regressors ``"diabetes"`` or ``"linnerud"`` (three targets
    per row). A classifier on a regression dataset is an error; a regressor may take a
    classification dataset, its class codes 0, 1, 2... read as numbers. Or
    ``csv = "train.csv"`` (a path relative to the study file; every other column a numeric
    feature) with ``target = "label"``, the column of class labels for a classifier (an
    error if its values are continuous), of numbers for a regressor. No other key is
    allowed.
scaler : string, default="none"
    ``"standard"`` or ``"minmax"`` puts a ``StandardScaler`` or ``MinMaxScaler`` before the
    estimator in a Pipeline, fitted once per fold and trial; ``"none"`` tunes the bare
    estimator.
search_space : "auto" or table, default="auto"
    ``"auto"`` draws, in every trial, what the estimator's own ``suggest_params`` draws:
    ``lr``, ``batch_size``, ``weight_decay`` and the architecture (``MLPClassifier`` and
    ``MLPRegressor``: ``hidden_layer_sizes`` of 1 to 3 layers of 32 to 512 units,
    ``activation``, ``dropout``). A ``[search_space]`` table instead names estimator
    parameters (no pipeline prefix), each an inline table:
    ``{ type = "float", low = 1e-4, high = 0.1 }`` (optional ``log = true`` or
    ``step = 0.1``), ``{ type = "int", low = 1, high = 3 }`` (optional ``log`` or
    ``step``), or ``{ type = "categorical", choices = [32, 64] }``.
params : table, default={}
    Fixed estimator parameters, by constructor name (``max_epochs = 30``); arrays become
    tuples (``hidden_layer_sizes = [64, 32]``). A parameter that the search space draws
    is an error, since the search would replace it in every trial.
n_trials : integer >= 1, default=20
    Trials of the whole study, all workers together; ``--n-trials`` overrides it.
cv : integer >= 2, default=3
    Folds shuffled with ``random_state``: stratified on the labels for a classifier, plain
    K folds for a regressor; every trial trains on the same folds.
metric : string, default="accuracy" for a classifier, "r2" for a regressor
    A scikit-learn scorer name, maximised and pruned on; the default is what the
    estimator's ``score`` reports. It must fit the estimator: a classification metric
    (``"balanced_accuracy"``, ``"f1_macro"``, ``"roc_auc_ovr"``, ``"neg_log_loss"``...)
    for a classifier, a regression one (``"neg_mean_squared_error"``,
    ``"neg_mean_absolute_error"``, ``"explained_variance"``...) for a regressor.
pruning : boolean, default=true
    Optuna's median pruner: a trial below the median of earlier trials at the same epoch
    stops, from epoch 3 on, once 5 trials have completed. ``false`` trains every trial for
    ``max_epochs`` epochs.
random_state : integer, default=0
    Seeds the folds and, unless ``[params]`` sets ``random_state``, the networks. (JSON's
    ``null`` seeds nothing: then each worker draws folds of its own.)
"""

#: A complete study file (TOML); a JSON file has the same keys, tables as objects.
STUDY_FILE_EXAMPLE = """\
estimator = "MLPClassifier"
scaler = "standard"
search_space = "auto"
n_trials = 20
cv = 3
metric = "accuracy"
pruning = true
random_state = 0

[params]
max_epochs = 30

[data]
dataset = "digits"
"""

#: An explicit search space, replacing ``search_space = "auto"`` in the example above.
STUDY_FILE_SEARCH_SPACE_EXAMPLE = """\
[search_space]
lr = { type = "float", low = 1e-4, high = 1e-1, log = true }
batch_size = { type = "categorical", choices = [32, 64, 128] }
dropout = { type = "float", low = 0.0, high = 0.5, step = 0.1 }
"""
