"""Rewards without training: a table of every child's reward, and what random search expects from it.

:func:`load_reward_table` reads the rewards of every arc of the course space, trained once
(``rewards_grammar.json``), so a lesson can compare searches by looking rewards up;
:func:`expected_best_of_random` is random search's expected best reward after ``n`` draws,
computed exactly from such a table.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .. import _checks


def expected_best_of_random(rewards: Sequence[float] | np.ndarray, n_trials: int | Sequence[int],
                            replace: bool = True) -> np.ndarray:
    """Random search's expected best reward after ``n_trials`` uniform draws.

    With the rewards of every arc of a space (or of a uniform sample of its arcs),
    random search draws ``n`` of them with replacement; the best of those has
    expectation ``sum_k r_(k) [(k/M)^n - ((k-1)/M)^n]`` over the sorted rewards
    ``r_(1) <= ... <= r_(M)``.  This is the curve a learned search must beat at equal
    budget.  With ``replace=False`` the ``n`` arcs are distinct (a budget of ``n``
    trained children, ``search(budget="children")``, over the rewards of *every* arc of
    the space): ``sum_k r_(k) [C(k, n) - C(k-1, n)] / C(M, n)``.

    Parameters
    ----------
    rewards : array-like ``(M,)``
        Finite rewards, one per arc (larger is better).
    n_trials : int or sequence of int
        Budget(s), each >= 1 (and <= M without replacement).
    replace : bool
        Draws with replacement (default) or distinct arcs.

    Returns
    -------
    np.ndarray
        float64 ``(len(n_trials),)`` (shape ``()`` for an int): expected best reward per budget.

    Examples
    --------
    >>> float(expected_best_of_random([0.5, 1.0], 1)), float(expected_best_of_random([0.5, 1.0], 2))
    (0.75, 0.875)
    """
    fn = "expected_best_of_random"
    r = np.sort(_checks.finite_array(rewards, "rewards", fn, ndim=1, dtype=np.float64))
    scalar = _checks.is_int(n_trials)
    if scalar:
        ns = [_checks.positive_int(n_trials, "n_trials", fn)]
    elif isinstance(n_trials, (str, bytes)) or not isinstance(n_trials, (Sequence, np.ndarray)) or not len(n_trials):
        raise _checks.fail(fn, "n_trials", "a positive int or a non-empty sequence of them", n_trials,
                           kind=TypeError)
    else:
        ns = [_checks.positive_int(n, f"n_trials[{i}]", fn) for i, n in enumerate(n_trials)]
    replace = _checks.flag(replace, "replace", fn)
    m = len(r)
    k = np.arange(1, m + 1)
    if replace:
        out = np.array([float(np.sum(r * ((k / m) ** n - ((k - 1) / m) ** n))) for n in ns])
    else:
        from scipy.special import gammaln

        def log_comb(a, b):  # log C(a, b) for a >= b
            return gammaln(a + 1) - gammaln(b + 1) - gammaln(a - b + 1)

        out = []
        for n in ns:
            if n > m:
                raise _checks.fail(fn, "n_trials", f"at most {m} (the number of rewards) when replace=False", n)
            # P(the best of n distinct draws is r_(k)) = C(k-1, n-1) / C(m, n)
            kk = k[k >= n]
            out.append(float(np.sum(r[kk - 1] * np.exp(log_comb(kk - 1, n - 1) - log_comb(m, n)))))
        out = np.array(out)
    return out[0] if scalar else out


#: The rewards of every arc of the course space on the grammar preset, shipped with the package.
REWARD_TABLE_FILE = Path(__file__).with_name("rewards_grammar.json")


def load_reward_table(path: str | Path | None = None) -> dict[tuple[int, ...], float]:
    """The validation AUROC of every arc of the course space, each child trained once.

    ``benchmarks/nas_controller_vs_random.py`` trains all 378 arcs of
    :func:`~workshop_utils.nas.space.course_model_space` on the ``'grammar'`` preset
    (4,000 training sequences, <= 4 epochs, every child from seed 0) and ships the rewards
    as ``workshop_utils/nas/rewards_grammar.json`` (provenance in ``data/README.md``).  Because every child starts from the same seed, a
    search over this space can look a reward up instead of training the child, which makes
    it cheap to repeat searches over many seeds.

    Parameters
    ----------
    path : str or Path, optional
        Default: the shipped table; or any file the benchmark wrote with ``--table``.

    Returns
    -------
    dict
        ``{arc (tuple of 4 ints): reward (float in [0, 1])}``, one entry per arc of the space.

    Raises
    ------
    ValueError
        Naming the file, when it is not a complete, readable reward table (truncated, edited,
        an arc missing or outside the space, a reward that is not a number in [0, 1]).
    """
    import json

    from .space import course_model_space

    fn = "load_reward_table"
    if path is not None and not isinstance(path, (str, Path)):
        raise _checks.fail(fn, "path", "a file path (str or Path) or None", path, kind=TypeError)
    path = _checks.file_path(Path(path) if path is not None else REWARD_TABLE_FILE, "path", fn)
    where = f"{fn}: {path} is not a complete reward table"
    try:
        raw = json.loads(path.read_text())["rewards"]
        table = {tuple(int(t) for t in json.loads(k)): float(v) for k, v in raw.items()}
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise ValueError(f"{where} ({type(err).__name__}: {err})") from None
    space = course_model_space()
    for arc, reward in table.items():
        try:
            space.check_arc(list(arc))
        except ValueError as err:
            raise ValueError(f"{where}: {err}") from None
        if not 0.0 <= reward <= 1.0:  # also refuses NaN
            raise ValueError(f"{where}: the reward of arc {list(arc)} is {reward}, expected a number in [0, 1]")
    if len(table) != space.size:
        raise ValueError(f"{where}: it has {len(table)} arcs, the course space {space.size}")
    return table
