"""Neural collaborative filtering (seed section 3.1) in numpy, with hand-written backpropagation.

    h1 = ReLU(W1 · [u, i] + b1),  h2 = ReLU(W2 · h1 + b2),  ŷ_ui = σ(w_out · h2 + b_out)

Trained with binary cross-entropy on every listen against ``negatives`` uniformly sampled items
per listen (He et al. 2017), Adam, L2 on the embeddings. Ranking uses the logit (σ is monotone).
The first layer splits as ``W1 · [u, i] = W1u · u + W1i · i``, so scoring every item for a user
precomputes both halves once and only the small layers run per pair.

User embeddings are free parameters, so NCF scores the users it was trained on; a history it
has not seen (a new user, a new listen) reaches it only at the next fit.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from qfzz_chain.recommender.errors import InvalidParameterError
from qfzz_chain.recommender.models.base import Model, check_fitted


class _Adam:
    """Adam (Kingma & Ba 2015) over a dict of arrays; embedding tables update only the rows a batch touched."""

    def __init__(self, params: dict[str, np.ndarray], rate: float, beta1: float = 0.9, beta2: float = 0.999):
        self.rate, self.beta1, self.beta2 = rate, beta1, beta2
        self.first = {k: np.zeros_like(v) for k, v in params.items()}
        self.second = {k: np.zeros_like(v) for k, v in params.items()}
        self.steps = 0

    def update(self, params: dict[str, np.ndarray], grads: dict[str, tuple[np.ndarray | slice, np.ndarray]]) -> None:
        """``grads[name] = (rows, gradient of those rows)``; ``rows`` is ``slice(None)`` for dense layers."""
        self.steps += 1
        correction1 = 1.0 - self.beta1 ** self.steps
        correction2 = 1.0 - self.beta2 ** self.steps
        for key, (rows, grad) in grads.items():
            first = self.beta1 * self.first[key][rows] + (1.0 - self.beta1) * grad
            second = self.beta2 * self.second[key][rows] + (1.0 - self.beta2) * grad * grad
            self.first[key][rows] = first
            self.second[key][rows] = second
            params[key][rows] -= self.rate * (first / correction1) / (np.sqrt(second / correction2) + 1e-8)


def _sum_rows(indices: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(distinct indices, summed value rows): the scatter-add of an embedding gradient."""
    distinct, inverse = np.unique(indices, return_inverse=True)
    selector = sp.csr_matrix((np.ones(len(indices)), (inverse, np.arange(len(indices)))), shape=(len(distinct), len(indices)))
    return distinct, selector @ values


class NCF(Model):
    """MLP over concatenated user and item embeddings."""

    name = "ncf"

    def __init__(self, embedding: int = 32, hidden: tuple[int, int] = (32, 16), negatives: int = 4, epochs: int = 8,
                 batch: int = 4096, learning_rate: float = 0.003, l2: float = 1e-4, seed: int = 42):
        if embedding < 1 or min(hidden) < 1 or negatives < 1 or epochs < 1 or batch < 1:
            raise InvalidParameterError("NCF sizes, negatives, epochs and batch must be positive")
        self.embedding = int(embedding)
        self.hidden = (int(hidden[0]), int(hidden[1]))
        self.negatives = int(negatives)
        self.epochs = int(epochs)
        self.batch = int(batch)
        self.learning_rate = float(learning_rate)
        self.l2 = float(l2)
        self.seed = int(seed)
        self.weights: dict[str, np.ndarray] | None = None

    def params(self) -> dict[str, float | int | str]:
        return {"embedding": self.embedding, "hidden": f"{self.hidden[0]}x{self.hidden[1]}", "negatives": self.negatives,
                "epochs": self.epochs, "learning_rate": self.learning_rate, "l2": self.l2, "seed": self.seed}

    def _initial_weights(self, n_users: int, n_items: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        d, (h1, h2) = self.embedding, self.hidden

        def glorot(fan_in: int, fan_out: int) -> np.ndarray:
            return rng.normal(scale=np.sqrt(2.0 / (fan_in + fan_out)), size=(fan_in, fan_out))

        return {
            "users": rng.normal(scale=0.1, size=(n_users, d)),
            "items": rng.normal(scale=0.1, size=(n_items, d)),
            "w1_user": glorot(2 * d, h1)[:d], "w1_item": glorot(2 * d, h1)[d:], "b1": np.zeros(h1),
            "w2": glorot(h1, h2), "b2": np.zeros(h2),
            "w_out": glorot(h2, 1)[:, 0], "b_out": np.zeros(1),
        }

    def fit(self, train: sp.csr_matrix, content: sp.csr_matrix | None = None) -> "NCF":
        rng = np.random.default_rng(self.seed)
        n_users, n_items = train.shape
        weights = self._initial_weights(n_users, n_items, rng)
        optimiser = _Adam(weights, self.learning_rate)
        coo = sp.csr_matrix(train).tocoo()
        pos_users, pos_items = coo.row.astype(np.int64), coo.col.astype(np.int64)
        # Minibatch products are tiny (batch × 32); BLAS threads only add synchronisation cost.
        from threadpoolctl import threadpool_limits  # here: serving does not need it

        with threadpool_limits(limits=1, user_api="blas"):
            self._train(weights, optimiser, pos_users, pos_items, n_items, rng)
        self.weights = weights
        return self

    def _train(self, weights: dict[str, np.ndarray], optimiser: _Adam, pos_users: np.ndarray, pos_items: np.ndarray,
               n_items: int, rng: np.random.Generator) -> None:
        for _ in range(self.epochs):
            users = np.concatenate([pos_users, np.repeat(pos_users, self.negatives)])
            items = np.concatenate([pos_items, rng.integers(0, n_items, size=len(pos_users) * self.negatives)])
            labels = np.concatenate([np.ones(len(pos_users)), np.zeros(len(pos_users) * self.negatives)])
            order = rng.permutation(len(users))
            for start in range(0, len(order), self.batch):
                chosen = order[start:start + self.batch]
                grads = self._gradients(weights, users[chosen], items[chosen], labels[chosen])
                optimiser.update(weights, grads)

    def _gradients(self, w: dict[str, np.ndarray], users: np.ndarray, items: np.ndarray,
                   labels: np.ndarray) -> dict[str, tuple[np.ndarray | slice, np.ndarray]]:
        """Mean BCE gradients of one minibatch, backpropagated by hand through the two ReLU layers."""
        user_vectors, item_vectors = w["users"][users], w["items"][items]
        z1 = user_vectors @ w["w1_user"] + item_vectors @ w["w1_item"] + w["b1"]
        h1 = np.maximum(z1, 0.0)
        z2 = h1 @ w["w2"] + w["b2"]
        h2 = np.maximum(z2, 0.0)
        logits = h2 @ w["w_out"] + w["b_out"][0]
        # d(BCE)/d(logit) = σ(logit) − y, averaged over the batch.
        d_logits = (0.5 * (1.0 + np.tanh(0.5 * logits)) - labels) / len(labels)
        d_z2 = np.outer(d_logits, w["w_out"]) * (z2 > 0)
        d_z1 = (d_z2 @ w["w2"].T) * (z1 > 0)
        every = slice(None)
        return {
            "users": _sum_rows(users, d_z1 @ w["w1_user"].T + self.l2 * user_vectors),
            "items": _sum_rows(items, d_z1 @ w["w1_item"].T + self.l2 * item_vectors),
            "w1_user": (every, user_vectors.T @ d_z1), "w1_item": (every, item_vectors.T @ d_z1),
            "b1": (every, d_z1.sum(axis=0)), "w2": (every, h1.T @ d_z2), "b2": (every, d_z2.sum(axis=0)),
            "w_out": (every, h2.T @ d_logits), "b_out": (every, np.array([d_logits.sum()])),
        }

    def score(self, history: sp.csr_matrix, users: np.ndarray | None = None) -> np.ndarray:
        check_fitted(self.weights, self)
        if users is None:
            raise InvalidParameterError("NCF scores only the users it was trained on; pass their rows")
        w = {k: v.astype(np.float32) for k, v in self.weights.items()}
        user_part = w["users"][np.asarray(users)] @ w["w1_user"]
        item_part = w["items"] @ w["w1_item"] + w["b1"]
        scores = np.empty((len(users), item_part.shape[0]))
        n_items, width = item_part.shape
        chunk = 32  # users per block: bounds the (users × items × hidden) activations to ~70 MB
        hidden = np.empty((chunk, n_items, width), dtype=np.float32)
        for start in range(0, len(users), chunk):
            block = user_part[start:start + chunk]
            h1 = hidden[: len(block)]
            np.add(block[:, None, :], item_part[None, :, :], out=h1)
            np.maximum(h1, 0.0, out=h1)
            h2 = h1.reshape(-1, width) @ w["w2"]
            h2 += w["b2"]
            np.maximum(h2, 0.0, out=h2)
            scores[start:start + len(block)] = (h2 @ w["w_out"] + w["b_out"][0]).reshape(len(block), n_items)
        return scores
