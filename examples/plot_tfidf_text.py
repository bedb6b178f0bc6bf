"""
Text classification with TF-IDF: sparse input to an MLP
=======================================================

A bag-of-words model turns each text into a row with one column per word of the
vocabulary. Almost all of those values are zero, so
:class:`~sklearn.feature_extraction.text.TfidfVectorizer` returns a *sparse* matrix, which
stores only the non-zero values. :class:`~sknets.MLPClassifier` takes that matrix as it
is: it is never made dense as a whole, only one batch of rows at a time on its way to the
network, so the memory a fit needs grows with the number of words in the texts, not with
the number of texts times the size of the vocabulary.
"""

# %%
# A corpus, generated here
# ------------------------
# Short news snippets on four topics. Each snippet mixes words of its topic, a few words of
# another topic (a sports article may mention money), common filler words and rarer words
# (names, places) from a vocabulary of a few thousand, in random order: no single word
# decides, a few snippets stay ambiguous, and, as in real text, most words are rare.
import itertools

import numpy as np

TOPICS = {
    "sport": "match goal team player coach season league score referee stadium fans win",
    "cooking": "recipe flavour oven dinner sauce bread kitchen taste chef salt butter bake",
    "space": "planet orbit rocket star telescope galaxy launch moon astronaut mission solar",
    "finance": "market stock bank price investor profit shares trade rate budget fund tax",
}
FILLER = "the a of and to in is it was on for with as at by this that from new"
SYLLABLES = "ka lo mi ne su ta ri vo pe du zan kor bel fis gur hon"
RARE_WORDS = ["".join(word) for word in itertools.product(SYLLABLES.split(), repeat=3)]  # 4 096


def make_snippets(n_snippets, seed):
    rng = np.random.default_rng(seed)
    names = list(TOPICS)
    texts, labels = [], []
    for _ in range(n_snippets):
        topic, other = rng.choice(names, size=2, replace=False)
        words = [
            *rng.choice(TOPICS[topic].split(), rng.integers(2, 6)),
            *rng.choice(TOPICS[other].split(), rng.integers(0, 3)),
            *rng.choice(FILLER.split(), rng.integers(4, 10)),
            # Rare words, the first ones more often: a word's rank sets its frequency.
            *(RARE_WORDS[rank % len(RARE_WORDS)] for rank in rng.zipf(1.2, rng.integers(2, 6))),
        ]
        texts.append(" ".join(rng.permutation(words)))
        labels.append(topic)
    return texts, np.array(labels)


texts_train, y_train = make_snippets(3000, seed=0)
texts_test, y_test = make_snippets(1000, seed=1)
for text, label in zip(texts_train[:5], y_train[:5]):
    print(f"{label:>8}: {text}")

# %%
# TF-IDF rows are sparse
# ----------------------
# Each column is a word, each value the word's count in the snippet weighted down when the
# word is common in the whole corpus (so "the" counts for little), and each row has unit
# length. The matrix is a :class:`scipy.sparse.csr_matrix`.
from sklearn.feature_extraction.text import TfidfVectorizer

X_train = TfidfVectorizer().fit_transform(texts_train)
stored_bytes = X_train.data.nbytes + X_train.indices.nbytes + X_train.indptr.nbytes
print(f"{type(X_train).__name__} of shape {X_train.shape}, {X_train.nnz} stored values")
print(f"density {X_train.nnz / np.prod(X_train.shape):.1%}")
dense_bytes = np.prod(X_train.shape) * 4  # float32, what the network trains in
print(f"{stored_bytes / 1e6:.1f} MB stored, {dense_bytes / 1e6:.1f} MB as a dense array")

# %%
# With a real vocabulary of tens of thousands of words and a hundred thousand documents the
# dense matrix takes tens of gigabytes, while the sparse one takes tens of megabytes.
#
# The pipeline
# ------------
# The vectorizer and the network in one pipeline, trained on the raw strings. One hidden
# layer of 64 units; with ``early_stopping=True`` 20 % of the training snippets are held
# out, the validation loss is recorded after every epoch in ``history_``, and training
# stops once it no longer improves, keeping the weights of its best epoch.
from sklearn.pipeline import make_pipeline

from sknets import MLPClassifier

model = make_pipeline(
    TfidfVectorizer(),
    MLPClassifier((64,), lr=3e-3, early_stopping=True, validation_fraction=0.2, random_state=0),
)
model.fit(texts_train, y_train)
print(f"{model[-1].n_epochs_} epochs, the best was epoch {model[-1].best_epoch_}")
print(f"sknets MLPClassifier test accuracy: {model.score(texts_test, y_test):.3f}")

# %%
# Two scikit-learn models on the same features
# --------------------------------------------
# A logistic regression is the classic baseline on TF-IDF features; scikit-learn's own
# MLPClassifier accepts sparse input too.
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier as SklearnMLPClassifier

baselines = {
    "LogisticRegression": LogisticRegression(max_iter=1000),
    "sklearn MLPClassifier": SklearnMLPClassifier((64,), early_stopping=True, random_state=0),
}
for name, classifier in baselines.items():
    baseline = make_pipeline(TfidfVectorizer(), classifier).fit(texts_train, y_train)
    print(f"{name} test accuracy: {baseline.score(texts_test, y_test):.3f}")

# %%
# All three are close: when the topic words decide, a linear model on TF-IDF is hard to
# beat, and the network's hidden layer has little to add. The network earns its place on
# richer text, or as a first layer to tune with :class:`~sknets.tuning.OptunaSearchCV`.
#
# The loss curves
# ---------------
# ``history_`` has one row per epoch: the training loss, and the loss on the held-out 20 %.
import matplotlib.pyplot as plt

history = model[-1].history_
ax = history[["train_loss", "valid_loss"]].plot(marker="o", figsize=(6, 3.5))
ax.set(xlabel="epoch", ylabel="cross-entropy", title="MLP on TF-IDF features")
plt.tight_layout()

# %%
# Predictions on new text go through the same vectorizer; words it has never seen are
# simply left out of the row.
new_snippets = ["the rocket left orbit", "a new recipe with butter", "the bank price rose"]
for snippet, topic in zip(new_snippets, model.predict(new_snippets)):
    print(f"{topic:>8}: {snippet}")
