"""
Text classification with a recurrent network
============================================

Sentiment analysis is the classic *many-to-one* task for recurrent networks: read a sentence
word by word, then say whether it is positive or negative. Word order matters — "not good"
is negative although "good" is positive — which a bag of words cannot see and a recurrent
network can.

The pipeline is two steps: :class:`~sknets.text.TextToSequences` turns each text into a
row of integer token ids, and :class:`~sknets.RNNClassifier` with ``vocab_size="auto"``
maps the ids to learned vectors (an embedding) and reads them in order.
"""

# %%
# A small corpus, built here
# --------------------------
# Short movie reviews from templates: a subject, a verb, an optional intensifier, an
# optional "not", a positive or negative adjective, and an optional ending. A review is
# positive when its adjective is positive and not negated, or negative and negated.
import numpy as np

SUBJECTS = ["the movie", "the film", "this show", "the plot", "the acting", "the ending"]
VERBS = ["was", "is", "felt", "seemed"]
INTENSIFIERS = ["", "really", "very", "quite", "truly"]
POSITIVE = ["good", "great", "excellent", "wonderful", "enjoyable", "funny"]
NEGATIVE = ["bad", "terrible", "boring", "awful", "dull", "weak"]
ENDINGS = ["", "overall", "to me", "in my opinion", "honestly"]


def make_reviews(n_reviews, seed):
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for _ in range(n_reviews):
        positive_word = bool(rng.integers(2))
        negated = bool(rng.integers(2))
        words = [
            rng.choice(SUBJECTS),
            rng.choice(VERBS),
            "not" if negated else "",
            rng.choice(INTENSIFIERS),
            rng.choice(POSITIVE if positive_word else NEGATIVE),
            rng.choice(ENDINGS),
        ]
        texts.append(" ".join(word for word in words if word))
        labels.append("positive" if positive_word != negated else "negative")
    return texts, np.array(labels)


texts_train, y_train = make_reviews(1200, seed=0)
texts_test, y_test = make_reviews(400, seed=1)
for text, label in zip(texts_train[:8], y_train[:8]):
    print(f"{label:>8}: {text}")

# %%
# Texts to token ids
# ------------------
# :class:`~sknets.text.TextToSequences` learns a vocabulary on the training texts: id 0 is
# padding, id 1 any word it has never seen, and known words get ids from 2 on, most
# frequent first. Each text becomes a row padded with 0 at the end.
from sknets.text import TextToSequences

to_ids = TextToSequences().fit(texts_train)
print(f"{len(to_ids.vocabulary_)} words; rows of {to_ids.max_length_} ids")
print(texts_train[0], "->", to_ids.transform(texts_train[:1])[0])

# %%
# The pipeline
# ------------
# ``vocab_size="auto"`` lets the network learn the size of its embedding table from the
# ids it sees in ``fit``, so the vocabulary does not have to be known in advance. A GRU
# of 32 units reads 16-dimensional word vectors; padding never reaches it (the sequences
# are packed to their true lengths).
from sklearn.pipeline import make_pipeline

from sknets import RNNClassifier

model = make_pipeline(
    TextToSequences(),
    RNNClassifier(
        "gru",
        32,
        vocab_size="auto",
        embedding_dim=16,
        lr=1e-2,
        max_epochs=15,
        validation_fraction=0.2,
        random_state=0,
    ),
)
model.fit(texts_train, y_train)
print(f"RNN test accuracy: {model.score(texts_test, y_test):.3f}")

# %%
# The loss curves come from ``history_``: one row per epoch, with the training loss and the
# loss and accuracy on the 20 % of training texts held out by ``validation_fraction``.
import matplotlib.pyplot as plt

history = model[-1].history_
ax = history[["train_loss", "valid_loss"]].plot(marker="o", figsize=(6, 3.5))
ax.set(xlabel="epoch", ylabel="cross-entropy", title="GRU on short reviews")
plt.tight_layout()

# %%
# A bag of words for comparison
# -----------------------------
# A logistic regression on word counts sees *which* words occur, not in which order. Here
# that is not enough: "not" makes a positive adjective negative and a negative one
# positive, so neither "not" nor any adjective has a fixed sign on its own.
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression

bag_of_words = make_pipeline(CountVectorizer(), LogisticRegression(max_iter=1000))
bag_of_words.fit(texts_train, y_train)
print(f"bag-of-words test accuracy: {bag_of_words.score(texts_test, y_test):.3f}")

# %%
# Words it has never seen
# -----------------------
# At prediction time, a word outside the training vocabulary becomes id 1, the
# out-of-vocabulary token: the network knows *that* a word stood there, nothing more. When
# only the filler is new, the known words still decide. When the unknown word carries the
# sentiment, the prediction rests on its context alone ("was ...", "was not ...") and says
# nothing about the word itself: such outputs deserve little trust, and the cure is a
# training corpus that covers the words the model will meet.
new_reviews = [
    "the soundtrack was not good",  # unknown subject, known sentiment
    "the film was brilliant",  # unknown adjective
    "the film was not brilliant",
    "this show seemed very dull to me",
]
print("ids:", model[0].transform(new_reviews).tolist())
probabilities = model.predict_proba(new_reviews)
positive = list(model.classes_).index("positive")
for review, label, proba in zip(new_reviews, model.predict(new_reviews), probabilities):
    print(f"{proba[positive]:.2f} positive -> {label:>8}: {review}")
