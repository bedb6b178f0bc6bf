"""
Forecasting a time series with an RNN regressor
===============================================

A recurrent network reads a window of past values step by step and predicts what comes
next: a forecaster. This example forecasts **tomorrow's trading volume** of Google's stock
from the volumes of the past 20 trading days with :class:`~sknets.RNNRegressor`, and
judges it out of sample with :class:`~sklearn.model_selection.TimeSeriesSplit` against the
two baselines every forecast must beat: "tomorrow as today" (the last value) and a linear
autoregression on the same windows.

The data are the daily prices and volumes of Google from August 2004 to October 2008 that
matplotlib ships as sample data, so nothing is downloaded.
"""

# %%
# The series
# ----------
# 1 047 trading days. Volumes span a wide range (under 2 million to over 40 million shares a
# day), and what matters is how much busier or calmer a day is than usual, so the example
# works with the logarithm of the volume: an error of 0.1 is about 10 % of the day's volume.
import matplotlib.pyplot as plt
import numpy as np
from matplotlib import cbook

# sphinx_gallery_thumbnail_number = 2

prices = cbook.get_sample_data("goog.npz")["price_data"]
dates, log_volume = prices["date"], np.log(prices["volume"])
log_price = np.log(prices["adj_close"])
print(f"{len(prices)} trading days, {dates[0]} to {dates[-1]}")
print(f"volume: {prices['volume'].min() / 1e6:.1f} to {prices['volume'].max() / 1e6:.1f} M")

fig, (price_ax, volume_ax) = plt.subplots(2, 1, figsize=(8, 4.5), sharex=True)
price_ax.plot(dates, prices["adj_close"], linewidth=0.8)
price_ax.set_ylabel("closing price ($)")
volume_ax.plot(dates, prices["volume"] / 1e6, linewidth=0.6, color="tab:orange")
volume_ax.set_yscale("log")
volume_ax.set_ylabel("volume (M shares)")
fig.suptitle("Google, daily")
fig.tight_layout()

# %%
# Windows of past values
# ----------------------
# Each row of ``X`` is a window of 20 consecutive days and its target is the day after.
# :func:`~numpy.lib.stride_tricks.sliding_window_view` builds all windows without copying
# the series.
from numpy.lib.stride_tricks import sliding_window_view

WINDOW = 20


def windows(series):
    """Rows of ``WINDOW`` past values, and the value that follows each row."""
    rows = sliding_window_view(series, WINDOW + 1)
    return rows[:, :WINDOW], rows[:, WINDOW]


X, y = windows(log_volume)
target_dates = dates[WINDOW:]
print(f"X: {X.shape} (windows x days), y: {y.shape}")

# %%
# Out-of-sample evaluation
# ------------------------
# :class:`~sklearn.model_selection.TimeSeriesSplit` trains on the past and tests on the
# future only: each split trains on every window before its test block, and the test block
# is the next 125 windows (about six months). Shuffled folds would let a model see
# tomorrow while predicting today.
from sklearn.model_selection import TimeSeriesSplit

splits = list(TimeSeriesSplit(n_splits=5, test_size=125).split(X))
for number, (train, test) in enumerate(splits, start=1):
    print(
        f"split {number}: train on {len(train)} windows up to {target_dates[train[-1]]}, "
        f"test {target_dates[test[0]]} to {target_dates[test[-1]]}"
    )

# %%
# Why the volume and not the price?
# ---------------------------------
# Tomorrow's price is hard to forecast from past prices: it is close to a random walk, and
# the last price is about as good a forecast as there is. A ridge regression on the last
# 20 log prices, scored on the same splits, does not beat it:
from sklearn.linear_model import RidgeCV
from sklearn.metrics import mean_absolute_error, root_mean_squared_error
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

ALPHAS = np.logspace(-3, 3, 13)
X_price, y_price = windows(log_price)
for name, forecast in [
    ("last price", lambda train, test: X_price[test, -1]),
    (
        "ridge on 20 prices",
        lambda train, test: (
            make_pipeline(StandardScaler(), RidgeCV(alphas=ALPHAS))
            .fit(X_price[train], y_price[train])
            .predict(X_price[test])
        ),
    ),
]:
    errors = [
        root_mean_squared_error(y_price[test], forecast(train, test)) for train, test in splits
    ]
    print(f"{name:<19} mean RMSE of the log price {np.mean(errors):.4f}")

# %%
# Trading volume is different: a busy day (news, earnings) is usually followed by calmer
# ones, so the volume returns towards its recent level, and the past weeks say more about
# tomorrow than today alone. That is something a forecaster can learn.
#
# Three forecasters of the log volume
# -----------------------------------
# * **last value**: tomorrow's volume is today's;
# * **ridge**: a linear autoregression, a weighted sum of the 20 past values
#   (:class:`~sklearn.linear_model.RidgeCV` picks its penalty on the training windows);
# * **RNN**: an LSTM of 16 units reads the 20 values one day at a time.
#
# Both learned models are pipelines whose :class:`~sklearn.preprocessing.StandardScaler`
# is fitted on each split's training windows only. A 2-D ``X`` is read by
# :class:`~sknets.RNNRegressor` as one univariate sequence per row; it standardises the
# target itself and predicts in log-volume units. ``early_stopping=True`` holds out 10 % of
# the training windows (drawn at random, so neighbours of training windows: an optimistic
# but cheap check) to stop training and keep the best epoch; the test block is never seen.
from sknets import RNNRegressor


def rnn_forecaster():
    return make_pipeline(
        StandardScaler(),
        RNNRegressor(hidden_size=16, lr=3e-3, early_stopping=True, random_state=0),
    )


def ridge_forecaster():
    return make_pipeline(StandardScaler(), RidgeCV(alphas=ALPHAS))


scores = {name: {"MAE": [], "RMSE": []} for name in ("last value", "ridge", "RNN")}
for train, test in splits:
    ridge = ridge_forecaster().fit(X[train], y[train])
    rnn = rnn_forecaster().fit(X[train], y[train])
    forecasts = {
        "last value": X[test, -1],
        "ridge": ridge.predict(X[test]),
        "RNN": rnn.predict(X[test]),
    }
    for name, forecast in forecasts.items():
        scores[name]["MAE"].append(mean_absolute_error(y[test], forecast))
        scores[name]["RMSE"].append(root_mean_squared_error(y[test], forecast))

# %%
# Errors per split, in log-volume units (lower is better):
import pandas as pd

for metric in ("MAE", "RMSE"):
    table = pd.DataFrame({name: values[metric] for name, values in scores.items()})
    table.index = [f"split {number}" for number in range(1, len(splits) + 1)]
    table.loc["mean"] = table.mean()
    print(f"{metric}\n{table.round(4)}\n")

baseline = scores["last value"]
for name in ("ridge", "RNN"):
    wins = {
        metric: sum(np.less(scores[name][metric], baseline[metric])) for metric in ("MAE", "RMSE")
    }
    reduction = 1 - np.mean(scores[name]["RMSE"]) / np.mean(baseline["RMSE"])
    print(
        f"{name}: mean RMSE {reduction:.1%} below the last value's; lower than the last "
        f"value's in {wins['RMSE']} of 5 splits by RMSE, {wins['MAE']} of 5 by MAE"
    )

# %%
# Both learned forecasters beat the last value on average, by nearly a tenth of its
# error, and in most splits (counted above). The RNN does **not** beat the linear
# autoregression: the two are level within the spread between splits. On one univariate series
# with mostly linear dynamics, a weighted sum of the past windows is a strong, fast and
# transparent forecaster, and it is the baseline any network has to be compared with.
# A recurrent network earns its cost when the dynamics are non-linear, when several
# series (inputs of shape ``(n, n_steps, n_features)``) interact, or when sequences have
# different lengths.
#
# The last test split, day by day
# -------------------------------
# The forecasts of the models fitted in the last split, in millions of shares. The last
# value repeats each spike one day late; the RNN rises less after a spike and stays nearer
# the recent level, which is where the volume usually returns.
days, true_volume = target_dates[test], np.exp(y[test]) / 1e6
fig, axes = plt.subplots(2, 1, figsize=(9, 5.5), sharex=True, sharey=True)
for ax, name, color in zip(axes, ["last value", "RNN"], ["tab:blue", "tab:green"]):
    ax.plot(days, true_volume, color="black", linewidth=1.2, label="true volume")
    ax.plot(days, np.exp(forecasts[name]) / 1e6, color=color, linewidth=1.2, label=name)
    rmse = root_mean_squared_error(y[test], forecasts[name])
    ax.set_title(f"{name} forecast (RMSE of the log volume {rmse:.3f})", fontsize=10)
    ax.set_ylabel("volume (M shares)")
    ax.legend(fontsize=9, loc="upper right")
fig.suptitle("Next-day volume on the last test split")
fig.autofmt_xdate()
fig.tight_layout()
