"""The reputation ledger's arithmetic, exactly as ``contracts/ReputationLedger.sol`` computes it.

The contract is the specification; this module replicates its integer arithmetic bit for bit
(tests/contracts/test_reputation_ledger.py compares both on anvil), so the updater can predict what
a posted target will do and the CLI can show what a weight will become.

Units: scores in millionths (``REP_SCALE`` = 1e6 == full reputation), weights in millionths of
``MAX_WEIGHT``, basis points 1e4 == 100%, stake in wei.

- **Decay**: the part of a score above ``PRIOR_SCORE`` shrinks by ``DECAY_BPS`` (1%) per epoch,
  the factor ``0.99^epochs`` taken in 18 decimals by squaring and rounded down at each step; a
  score at or below the prior does not decay (time does not forgive a penalty). Half-life of the
  excess: ln 2 / −ln 0.99 ≈ 69 epochs.
- **Step**: a posted target moves the decayed score by at most ``MAX_STEP`` (0.05) per epoch,
  so the updater needs 14 epochs to take a fresh identity from the prior 0.2 to 0.9.
- **Weight**: ``(√(score·1e6) + √(score·share)) / 2`` with ``share`` = stake / saturation in
  millionths (capped at 1e6), integer square roots rounded down: 0.2236 for a fresh unstaked
  identity, 0.4472 staked to saturation, 1.0 at full reputation and stake.
"""

from __future__ import annotations

from math import isqrt

REP_SCALE = 1_000_000
PRIOR_SCORE = 200_000
MAX_STEP = 50_000
DECAY_BPS = 100
MAX_WEIGHT = 1_000_000
NON_REVEAL_PENALTY = 50_000
NON_REVEAL_SLASH_BPS = 500
EQUIVOCATION_SLASH_BPS = 10_000
REPORTER_SHARE_BPS = 1_000
UNBONDING_SECONDS = 21 * 24 * 3600
NO_SEGMENT = 255
BPS = 10_000
MAX_DECAY_EPOCHS = 4096
_WAD = 10**18


def decayed(score: int, epochs: int) -> int:
    """The score left after ``epochs`` epochs of decay (the contract's ``decayed``)."""
    if score <= PRIOR_SCORE or epochs <= 0:
        return score
    if epochs >= MAX_DECAY_EPOCHS:
        return PRIOR_SCORE
    factor, base, exponent = _WAD, _WAD * (BPS - DECAY_BPS) // BPS, epochs
    while exponent:
        if exponent & 1:
            factor = factor * base // _WAD
        base = base * base // _WAD
        exponent >>= 1
    return PRIOR_SCORE + (score - PRIOR_SCORE) * factor // _WAD


def step_towards(current: int, target: int) -> int:
    """One epoch's move from ``current`` towards ``target``, at most ``MAX_STEP``."""
    if target > current:
        return min(target, current + MAX_STEP)
    return current - min(current - target, MAX_STEP)


def posted(score: int, epochs_since: int, target: int) -> int:
    """What posting ``target`` does to a score stored ``epochs_since`` epochs ago."""
    return step_towards(decayed(score, epochs_since), target)


def compute_weight(score: int, active_stake: int, stake_saturation: int) -> int:
    """An identity's voting weight (the contract's ``computeWeight``)."""
    if stake_saturation <= 0:
        raise ValueError("the stake saturation is positive")
    score = min(max(score, 0), REP_SCALE)
    share = REP_SCALE if active_stake >= stake_saturation else active_stake * REP_SCALE // stake_saturation
    return (isqrt(score * REP_SCALE) + isqrt(score * share)) // 2


def non_reveal_penalty(score: int, stake: int) -> tuple[int, int, int]:
    """(score after, score lost, stake taken) for a curator who did not reveal."""
    lost = min(score, NON_REVEAL_PENALTY)
    return score - lost, lost, stake * NON_REVEAL_SLASH_BPS // BPS


def reporter_reward(taken: int) -> int:
    """The reporter's share of a slash (the rest is burned)."""
    return taken * REPORTER_SHARE_BPS // BPS


def epochs_to_reach(target: int, start: int = PRIOR_SCORE) -> int:
    """How many posted epochs (without decay between them) take ``start`` to ``target``."""
    return -(-abs(target - start) // MAX_STEP)
