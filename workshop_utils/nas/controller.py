"""Controllers that propose architectures: an LSTM policy trained by REINFORCE, and random search.

Both share one small interface, used by :func:`workshop_utils.nas.search`:

* ``get_action() -> (arc, probs)``: an arc (one integer token per layer) and, per layer,
  the probabilities of each choice at the moment it was drawn;
* ``update(arc, reward) -> float``: learn from the reward the arc earned.

Nothing here knows what the layers are (CNN or dense network): a controller only sees
how many choices each layer has.  The LSTM policy follows ENAS/AMBER's ``GeneralController``
(logits squashed by ``tanh_constant * tanh(logits / temperature)``, an entropy bonus, a
moving-average reward baseline), written in PyTorch (the LSTM is
:class:`workshop_utils.nas._torch_layers.Policy`, imported when a controller is made).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import _checks
from .space import ModelSpace


def _check_space(model_space: Any, fn: str) -> list[int]:
    if isinstance(model_space, ModelSpace):
        return model_space.choices
    raise _checks.fail(fn, "model_space", "a ModelSpace", type(model_space).__name__, kind=TypeError)


def _check_reward(reward: Any, fn: str) -> float:
    return _checks.number(reward, "reward", fn)


class RandomController:
    """Uniform random search with the controller interface (the baseline to beat).

    Parameters
    ----------
    model_space : ModelSpace
    seed : int
    """

    def __init__(self, model_space: ModelSpace, seed: int = 0) -> None:
        self.choices = _check_space(model_space, "RandomController")
        self.model_space = model_space
        self.seed = _checks.non_negative_int(seed, "seed", "RandomController")
        self._rng = np.random.default_rng(self.seed)
        self.n_updates = 0

    def get_action(self) -> tuple[list[int], list[np.ndarray]]:
        """Draw an arc uniformly; ``probs[i]`` is uniform over layer ``i``'s choices."""
        arc = [int(self._rng.integers(n)) for n in self.choices]
        return arc, [np.full(n, 1.0 / n) for n in self.choices]

    def update(self, arc: Sequence[int], reward: float) -> float:
        """Random search learns nothing; checks its inputs and returns 0.0."""
        self.model_space.check_arc(arc)
        _check_reward(reward, "RandomController.update")
        self.n_updates += 1
        return 0.0

    def __repr__(self) -> str:
        return f"RandomController(choices={self.choices}, seed={self.seed})"


class GeneralController:
    """An LSTM policy over the layers, trained by REINFORCE.

    At layer ``i`` the LSTM reads the embedding of the previous token, a linear head
    gives one logit per choice, squashed as ``tanh_constant * tanh(logits / temperature)``
    (this caps how sure the policy can get: with 6 choices and ``tanh_constant=1.5`` the
    top choice has at most p = 0.80; pass ``tanh_constant=None`` to remove the cap), and a
    token is drawn from the softmax.

    The update is REINFORCE: ``loss = -(reward - baseline) * log p(arc) - entropy_weight *
    entropy``, where ``baseline`` is a moving average of the rewards
    (``baseline <- baseline_decay * baseline + (1 - baseline_decay) * reward``).  With
    ``normalize=True`` the advantage is divided by a moving standard deviation of the
    rewards, so rewards that differ in the second decimal (AUROCs) still move the policy.

    Parameters
    ----------
    model_space : ModelSpace
    seed : int
        Seeds the weights and the sampling (torch's global RNG is left alone).
    lstm_size : int
        Hidden units of the LSTM (and size of the token embeddings).
    temperature : float
        > 0; larger flattens the policy.
    tanh_constant : float or None
        Bound on the logits (None: no bound).
    entropy_weight : float
        Weight of the entropy bonus (keeps the policy from collapsing after a few updates).
    baseline_decay : float
        In [0, 1).
    lr : float
        Adam learning rate.
    batch_size : int
        Number of ``update`` calls whose losses are averaged into one optimizer step.
    normalize : bool
        Divide advantages by a moving standard deviation of the rewards.
    """

    def __init__(self, model_space: ModelSpace, seed: int = 0, lstm_size: int = 32,
                 temperature: float = 1.0, tanh_constant: float | None = 1.5,
                 entropy_weight: float = 0.01, baseline_decay: float = 0.95, lr: float = 0.01,
                 batch_size: int = 1, normalize: bool = True) -> None:
        import torch

        from ._torch_layers import Policy

        fn = "GeneralController"
        self.choices = _check_space(model_space, fn)
        self.model_space = model_space
        self.seed = _checks.non_negative_int(seed, "seed", fn)
        lstm_size = _checks.positive_int(lstm_size, "lstm_size", fn)
        batch_size = _checks.positive_int(batch_size, "batch_size", fn)
        temperature = _checks.number(temperature, "temperature", fn, low=0.0, low_open=True)
        lr = _checks.number(lr, "lr", fn, low=0.0, low_open=True)
        if tanh_constant is not None:
            tanh_constant = _checks.number(tanh_constant, "tanh_constant", fn, low=0.0, low_open=True)
        entropy_weight = _checks.number(entropy_weight, "entropy_weight", fn, low=0.0)
        baseline_decay = _checks.number(baseline_decay, "baseline_decay", fn, low=0.0, high=1.0, high_open=True)
        normalize = _checks.flag(normalize, "normalize", fn)
        self.lstm_size = int(lstm_size)
        self.temperature = float(temperature)
        self.tanh_constant = None if tanh_constant is None else float(tanh_constant)
        self.entropy_weight = float(entropy_weight)
        self.baseline_decay = float(baseline_decay)
        self.lr = float(lr)
        self.batch_size = int(batch_size)
        self.normalize = bool(normalize)
        self.baseline: float | None = None
        self._var = 0.0
        self.n_updates = 0
        self._pending: list[Any] = []

        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            self.policy = Policy(self.choices, self.lstm_size)
        self._gen = torch.Generator().manual_seed(self.seed)
        self.optimizer = torch.optim.Adam(self.policy.parameters(), lr=self.lr)

    def __repr__(self) -> str:
        return (f"GeneralController(choices={self.choices}, seed={self.seed}, lstm_size={self.lstm_size}, "
                f"temperature={self.temperature}, tanh_constant={self.tanh_constant}, "
                f"entropy_weight={self.entropy_weight}, lr={self.lr})")

    def _run(self, arc: Sequence[int] | None):
        return self.policy(arc, self._gen, self.temperature, self.tanh_constant)

    def get_action(self) -> tuple[list[int], list[np.ndarray]]:
        """Sample an arc from the policy.

        Returns
        -------
        arc : list of int
            One token per layer.
        probs : list of np.ndarray
            ``probs[i]`` has shape ``(n_choices_i,)``: layer ``i``'s choice probabilities
            given the tokens drawn before it.
        """
        import torch

        with torch.no_grad():
            arc, _, _, probs = self._run(None)
        return arc, [p.numpy().astype(np.float64) for p in probs]

    def layer_probs(self, arc: Sequence[int]) -> list[np.ndarray]:
        """Per-layer choice probabilities along ``arc`` (each conditioned on the tokens before it)."""
        import torch

        arc = self.model_space.check_arc(arc)
        with torch.no_grad():
            _, _, _, probs = self._run(arc)
        return [p.numpy().astype(np.float64) for p in probs]

    def arc_probability(self, arc: Sequence[int]) -> float:
        """Probability that :meth:`get_action` draws exactly ``arc``."""
        probs = self.layer_probs(arc)
        return float(np.prod([p[t] for p, t in zip(probs, arc)]))

    def update(self, arc: Sequence[int], reward: float) -> float:
        """One REINFORCE step (or one buffered loss when ``batch_size > 1``).

        Parameters
        ----------
        arc : list of int
        reward : float
            Larger is better (e.g. a validation AUROC).

        Returns
        -------
        float
            The loss of this arc.
        """
        arc = self.model_space.check_arc(arc)
        reward = _check_reward(reward, "GeneralController.update")
        if self.baseline is None:
            self.baseline = reward
        else:
            diff = reward - self.baseline
            self.baseline += (1 - self.baseline_decay) * diff
            self._var = self.baseline_decay * self._var + (1 - self.baseline_decay) * diff ** 2
        advantage = reward - self.baseline
        if self.normalize:
            advantage /= max(np.sqrt(self._var), 1e-3) if self._var > 0 else 1.0
        _, logp, entropy, _ = self._run(arc)
        loss = -advantage * logp - self.entropy_weight * entropy
        self._pending.append(loss)
        self.n_updates += 1
        if len(self._pending) >= self.batch_size:
            total = sum(self._pending) / len(self._pending)
            self.optimizer.zero_grad()
            total.backward()
            self.optimizer.step()
            self._pending = []
        return float(loss.detach())
