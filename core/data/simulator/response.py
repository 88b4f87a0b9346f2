"""Whom an offer moves: a persistent responsiveness trait, contact fatigue, and what a bank
can infer about both from its own offer log (the Bayes ceiling from observables).

Why: on a real randomized e-mail trial (64,000 customers), a plain two-model uplift
learner that picked 20% of customers got 1.30x (visits) and 2.58x (purchases) the
incremental conversions of picking the 20% most likely to respond anyway, for the
stronger campaign: part of whom an offer moves is visible. Before this module the
simulator drew the client type (persuadable / sure thing / lost cause / sleeping dog)
independently of everything observable, so no model could beat a take-up policy.

- Trait: each client has one hidden responsiveness level (responsive / neutral / averse,
  `TRAIT_PRIOR`); the type of each (client, product) is drawn from the level's mix
  (`TYPE_MIX_BY_TRAIT`), so types are correlated across products, not identical. The trait
  shows in the client's answers to earlier offers (conversions in the treatment arm), and
  a bank that logs its offers can infer it.
- Fatigue: each offer shown in the last `FATIGUE_MONTHS` months multiplies the offer's
  effect by `FATIGUE` (contact fatigue): a client contacted often becomes a sleeping dog,
  visibly in the offer log.
- Part of the type stays hidden: the oracle (true types and effects) stays above every
  observable ceiling.

`Evidence` keeps, per (client, product), the likelihood of the logged answers under each
type; `ceiling` turns it into the posterior expectation of the take-up probabilities.
Approximations (bounded by `bench/bench_ceilings.py`'s "knowing the trait" row and the
Monte Carlo test): the latent need is replaced by its expectation given income (need is
shared by repeated offers of one product, which the product of likelihoods ignores), a
persuadable's effect by its mean, and months without an offer carry no evidence.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from core.data.simulator import takeup as tk

TRAIT_PRIOR, TYPE_MIX_BY_TRAIT = tk.TRAIT_PRIOR, tk.TYPE_MIX_BY_TRAIT
FATIGUE = 0.85  # offer-effect multiplier per offer shown in the last FATIGUE_MONTHS months
FATIGUE_MONTHS = 6


def draw_traits(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.choice(3, size=n, p=TRAIT_PRIOR).astype(np.int8)


def draw_types(rng: np.random.Generator, trait: np.ndarray, n_p: int) -> np.ndarray:
    """(n, P) client type per product, from the mix of each client's trait."""
    cum = np.cumsum(TYPE_MIX_BY_TRAIT, axis=1)[trait]  # (n, 4)
    u = rng.random((len(trait), n_p))
    return (u[:, :, None] >= cum[:, None, :]).sum(2).clip(0, 3).astype(np.int8)


def fatigue(contacts: np.ndarray) -> np.ndarray:
    """(n,) offer-effect multiplier from the number of offers shown in the fatigue window."""
    return FATIGUE ** np.asarray(contacts, dtype=float)


def type_prior() -> np.ndarray:
    """(2, traits, types): the type mix given the trait, without / with a linked life event
    (a share of the pairs with one are made sure things, as `simulate` does)."""
    s = tk.LINKED_SURE_SHARE
    sure = np.eye(4)[tk.SURE_THING]
    return np.stack([TYPE_MIX_BY_TRAIT, (1 - s) * TYPE_MIX_BY_TRAIT + s * sure])


class TypeProbs:
    """(p_organic, p_offer) as if every product of every client were of type k, k = 0..3."""

    def __init__(self, organic: list[np.ndarray], offer: list[np.ndarray]) -> None:
        self.organic, self.offer = organic, offer

    def expect(self, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        org = sum(weights[..., k] * self.organic[k] for k in range(4))
        off = sum(weights[..., k] * self.offer[k] for k in range(4))
        return np.asarray(org), np.asarray(off)


class Evidence:
    """Log-likelihood of each (client, product)'s logged offer answers under each type."""

    def __init__(self, n: int, n_p: int) -> None:
        self.loglik = np.zeros((n, n_p, 4))
        self.seen = np.zeros((n, n_p), dtype=bool)  # pairs with at least one logged answer

    def add(
        self, idx: np.ndarray, j: int, shown: np.ndarray, converted: np.ndarray, by_type: TypeProbs
    ) -> None:
        """One campaign's rows: clients `idx`, product column j, arm and answer."""
        for k in range(4):
            p = np.where(shown, by_type.offer[k][idx, j], by_type.organic[k][idx, j]).astype(float)
            p = np.clip(p, 1e-6, 1 - 1e-6)
            self.loglik[idx, j, k] += np.where(converted, np.log(p), np.log1p(-p))
        self.seen[idx, j] = True

    def type_weights(self, linked_event: np.ndarray, trait: np.ndarray | None = None) -> np.ndarray:
        """(n, P, 4) posterior probability of each type; `trait` given: knowing the trait.

        Only pairs with a logged answer carry evidence (elsewhere the likelihood is 1 under
        every type), so the posterior is computed on those pairs alone and the others take
        the prior mix under the client's trait posterior.
        """
        n = linked_event.shape[0]
        prior = type_prior()  # (2, 3, 4)
        linked = linked_event.astype(np.intp)
        ii, jj = np.nonzero(self.seen)
        ll = self.loglik[ii, jj]  # (m, 4)
        num = prior[linked[ii, jj]] * np.exp(ll - ll.max(1, keepdims=True))[:, None, :]  # (m, 3, 4)
        per_trait = num.sum(2)  # likelihood of the pair's answers given the trait (scaled per pair)
        post_type = num / np.maximum(per_trait[..., None], 1e-300)
        if trait is None:
            log_post = np.tile(np.log(TRAIT_PRIOR), (n, 1))
            np.add.at(log_post, ii, np.log(np.maximum(per_trait, 1e-300)))
            post = np.exp(log_post - log_post.max(1, keepdims=True))
            post /= post.sum(1, keepdims=True)
        else:
            post = np.eye(3)[trait]
        by_link = np.einsum("nr,lrk->nlk", post, prior)  # (n, 2, 4): no-evidence weights
        weights = by_link[np.arange(n)[:, None], linked]  # (n, P, 4)
        weights[ii, jj] = (post[ii][:, :, None] * post_type).sum(1)
        return weights


def type_probs(
    hazard: np.ndarray,
    seg_mult: np.ndarray,
    need: np.ndarray,
    season_mult: np.ndarray,
    boost: np.ndarray,
    can_add: np.ndarray,
    hist_mult: np.ndarray,
    react: np.ndarray,
    fatigue_mult: np.ndarray,
    couple: Callable[[np.ndarray], np.ndarray],
) -> TypeProbs:
    """Take-up of every (client, product) under each type with that type's mean offer effect.

    `need` is what a bank can know of the latent need (its expectation given income);
    `couple` applies the nomina / nom_pens co-adoption to the marginals.
    """
    organic, offer = [], []
    base = tk.fresh_hazard(hazard, seg_mult, need, season_mult, boost, hist_mult)
    for k in range(4):
        effect = tk.TYPE_MEAN_EFFECT[k] * fatigue_mult[:, None]
        org, off = tk.typed_probabilities(
            base, tk.TYPE_NEED[k], k == tk.PERSUADABLE, effect, can_add, react
        )
        organic.append(couple(org))
        offer.append(couple(off))
    return TypeProbs(organic, offer)
