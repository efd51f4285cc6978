"""Word of mouth as a branching process with delays, by valence and by the teller's role.

Each person who learns something tells a random number of others (the
*offspring*), each after a random *delay*; those tell others in turn. The
offspring distribution depends on the group of the teller: the **valence** of
what travels (``positive`` / ``negative`` / ``neutral``, or for Twitter15 the
rumour label ``true`` / ``false`` / ``non-rumor`` / ``unverified``; it is the
cascade root's and does not change along the way) and the teller's **role**
(``ordinary`` or ``efluential``). Each group has

* an offspring distribution: negative binomial with mean ``m`` and dispersion
  ``k`` (variance ``m + m^2 / k``; ``k`` infinite is Poisson), or the empirical
  counts. The negative binomial is the default: two numbers per group that
  extrapolate beyond the largest cascade seen, and ``k`` says how unequal tellers
  are (``k < 1``: a few tell many, most tell no one, as Lloyd-Smith et al. 2005
  found for superspreading). Fitting is maximum likelihood: the MLE of ``m`` is
  the sample mean, ``k`` maximises the profile likelihood (scipy);
* a delay distribution (seconds): lognormal, fitted by MLE on log delays (mean and
  standard deviation of ``log d``; delays <= 0 are left out, and counted);
* the share of the people it reaches who are e-fluential (their role when they
  tell on);
* optionally a separate offspring and delay distribution for the cascade's
  **root**, the first teller. In observed cascades the root reaches far more people
  than anyone after (Twitter15: 306 retweets of the source on average, 0.24 per
  retweet), so one distribution for both describes neither.

Simulation is vectorised with numpy generation by generation over all runs at
once, each person a distinct participant, capped at ``max_size`` participants and
``max_depth`` generations (a supercritical process, mean offspring above 1, grows
forever: the cap is then the forecast's ceiling and ``capped`` says how often it
was hit).

Presets (:meth:`BranchingModel.preset`) are the **rules of thumb of marketing
folklore, not measurements**: "a happy customer tells 2, an unhappy one 8"
(``traditional``, the offline word-of-mouth adage), "on the web everyone tells 8"
(``web``), and "an e-fluential tells 11 about a good experience, 17 about a bad
one" (``efluential``: the Burson-Marsteller e-fluentials figures; ordinary people
tell 8 as in ``web``). They have Poisson offspring and a default lognormal delay
(median one day offline, one hour online, ``sigma`` 1.5), chosen for
illustration. Neutral experiences take the positive figure. Use them to ask "what
if the folklore held", and :func:`fit_branching` for what the data says.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy import optimize, stats

from whuffie import arrowsql
from whuffie.errors import WhuffieError
from whuffie.spread.cascades import CascadeSet, offspring

ROLES = ("ordinary", "efluential")
#: Value of a cascade whose root has no valence (or label).
UNKNOWN = "unknown"
#: Dispersion above which the negative binomial is taken as Poisson.
K_MAX = 1e6


@dataclass(frozen=True)
class Offspring:
    """How many others one teller tells: negative binomial (``mean``, ``dispersion``) or empirical.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> round(float(Offspring(2.0).sample(rng, 100_000).mean()), 1)
    2.0
    >>> Offspring(1.0, empirical=np.array([0, 3])).sample(rng, 5).tolist()
    [3, 0, 3, 0, 0]
    """

    mean: float
    dispersion: float = math.inf
    empirical: np.ndarray | None = field(default=None, repr=False, compare=False)

    def pgf(self, x: float) -> float:
        """The probability generating function ``E[x ** N]`` of the offspring count ``N``.

        Examples
        --------
        >>> round(Offspring(2.0).pgf(0.5), 4)  # Poisson: exp(m (x - 1))
        0.3679
        >>> Offspring(1.0, empirical=np.array([0, 2])).pgf(0.5)
        0.625
        """
        if self.empirical is not None and len(self.empirical):
            return float(np.mean(np.power(x, self.empirical)))
        if self.mean <= 0:
            return 1.0
        if not math.isfinite(self.dispersion) or self.dispersion >= K_MAX:
            return math.exp(self.mean * (x - 1.0))
        k = self.dispersion
        return (1.0 + self.mean * (1.0 - x) / k) ** (-k)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` independent offspring counts."""
        if self.empirical is not None and len(self.empirical):
            return rng.choice(self.empirical, size=n)
        if self.mean <= 0:
            return np.zeros(n, dtype=np.int64)
        if not math.isfinite(self.dispersion) or self.dispersion >= K_MAX:
            return rng.poisson(self.mean, size=n)
        k = self.dispersion
        return rng.negative_binomial(k, k / (k + self.mean), size=n)


@dataclass(frozen=True)
class Delay:
    """Seconds between hearing and telling: lognormal (``mu``, ``sigma`` of log seconds) or empirical.

    Examples
    --------
    >>> d = Delay(math.log(3600), 0.0)
    >>> round(d.median), np.round(d.sample(np.random.default_rng(0), 2)).tolist()
    (3600, [3600.0, 3600.0])
    """

    mu: float
    sigma: float
    empirical: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def median(self) -> float:
        """The median delay in seconds."""
        return float(np.median(self.empirical)) if self.empirical is not None else math.exp(self.mu)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` independent delays (seconds)."""
        if self.empirical is not None and len(self.empirical):
            return rng.choice(self.empirical, size=n)
        return rng.lognormal(self.mu, self.sigma, size=n)


@dataclass(frozen=True)
class Group:
    """The behaviour of tellers of one (valence, role): offspring, delay, whom they reach.

    ``root_offspring`` / ``root_delay`` apply to the cascade's first teller (``None``:
    as everyone). ``nodes`` and ``roots`` count the observations behind a fit.
    """

    offspring: Offspring
    delay: Delay
    root_offspring: Offspring | None = None
    root_delay: Delay | None = None
    efluential_share: float = 0.0
    nodes: int = 0
    roots: int = 0


#: Preset figures (mean people told) by (valence, role); see the module documentation.
PRESETS = {
    "traditional": ({"positive": (2, 2), "negative": (8, 8)}, 86_400.0,
                    "Rule of thumb: a happy customer tells 2, an unhappy one tells 8 (offline folklore)."),
    "web": ({"positive": (8, 8), "negative": (8, 8)}, 3_600.0,
            "Rule of thumb: on the web a customer tells 8, happy or not (folklore)."),
    "efluential": ({"positive": (8, 11), "negative": (8, 17)}, 3_600.0,
                   "Rule of thumb: an e-fluential tells 11 about a good experience and 17 about a bad one; "
                   "others tell 8 (marketing folklore, Burson-Marsteller)."),
}
#: Share of the people reached who are e-fluential, in the presets (the "top 10%" of the folklore).
PRESET_EFLUENTIAL_SHARE = 0.10
PRESET_DELAY_SIGMA = 1.5


@dataclass
class BranchingModel:
    """Offspring and delay distributions per (valence, role), and the simulation caps.

    Attributes
    ----------
    groups : dict
        ``(valence, role) -> Group``.
    name : str
        Preset name, or ``"fitted"``.
    is_preset : bool
        True for the folklore presets (rules of thumb, not measurements).
    note : str
        Where the figures come from.
    by : str
        What the valence is: ``"valence"`` (sentiment) or ``"label"``.
    max_size, max_depth : int
        Simulation caps (participants, generations).

    Examples
    --------
    >>> m = BranchingModel.preset("efluential")
    >>> m.is_preset, m.group("negative", "efluential").offspring.mean, m.group("negative").offspring.mean
    (True, 17.0, 8.0)
    """

    groups: dict[tuple[str, str], Group]
    name: str = "fitted"
    is_preset: bool = False
    note: str = ""
    by: str = "valence"
    max_size: int = 10_000
    max_depth: int = 100

    @classmethod
    def preset(cls, name: str) -> BranchingModel:
        """A folklore preset: ``traditional``, ``web`` or ``efluential`` (see the module documentation).

        Examples
        --------
        >>> BranchingModel.preset("traditional").group("neutral", "ordinary").offspring.mean
        2.0
        """
        if name not in PRESETS:
            raise WhuffieError(f"no branching preset {name!r}; choose one of {', '.join(PRESETS)}")
        means, median, note = PRESETS[name]
        means = {**means, "neutral": means["positive"]}
        delay = Delay(math.log(median), PRESET_DELAY_SIGMA)
        groups = {
            (valence, role): Group(Offspring(float(pair[i])), delay, efluential_share=PRESET_EFLUENTIAL_SHARE)
            for valence, pair in means.items() for i, role in enumerate(ROLES)
        }
        return cls(groups, name=name, is_preset=True, note=f"Preset, not a measurement. {note}")

    @property
    def valences(self) -> list[str]:
        """The valences the model knows."""
        return sorted({v for v, _ in self.groups})

    def group(self, valence: str, role: str = "ordinary") -> Group:
        """The group of a teller; a role the fit never saw falls back to the other role."""
        return self.groups[_key(self, valence, role)]

    def reproduction(self, valence: str) -> float:
        """People each teller of ``valence`` tells on average, over generations: above 1 it never dies out.

        The largest eigenvalue of the mean matrix between the roles (an ordinary teller reaches
        e-fluentials in the share of its group, and so on); the first teller's own figures do not
        enter, since one person cannot keep a process alive.

        Examples
        --------
        >>> BranchingModel.preset("traditional").reproduction("positive")
        2.0
        >>> round(BranchingModel.preset("efluential").reproduction("negative"), 2)
        8.9
        """
        m = self._means(valence)
        return float(max(abs(np.linalg.eigvals(m))))

    def _means(self, valence: str) -> np.ndarray:
        rows = []
        for role in ROLES:
            g = self.group(valence, role)
            share = g.efluential_share
            rows.append([g.offspring.mean * (1 - share), g.offspring.mean * share])
        return np.array(rows)

    def survival(self, roots: Sequence[tuple[str, str]]) -> float:
        """The probability that word of mouth started by ``roots`` never dies out.

        One minus the extinction probability of the branching process, the smallest fixed point
        ``q = G(q)`` of the offspring generating functions (per role), found by iterating from 0
        (which converges to it); the first tellers use their own offspring when the model has one.
        Zero for a process whose reproduction number is at most 1.

        Examples
        --------
        Poisson offspring with mean 2 dies out with probability q = exp(2 (q - 1)), q = 0.2032:

        >>> round(BranchingModel.preset("traditional").survival([("positive", "ordinary")]), 4)
        0.7968
        """
        if not roots:
            return 0.0
        dead = 1.0
        for valence, role in roots:
            q = self._extinction(valence)
            g = self.group(valence, role)
            first = g.root_offspring or g.offspring
            dead *= first.pgf((1 - g.efluential_share) * q[0] + g.efluential_share * q[1])
        return float(1.0 - dead)

    def _extinction(self, valence: str) -> tuple[float, float]:
        """Extinction probabilities of a process started by one ordinary / e-fluential (relay) teller."""
        groups = [self.group(valence, role) for role in ROLES]
        q = (0.0, 0.0)
        for _ in range(10_000):
            new = tuple(g.offspring.pgf((1 - g.efluential_share) * q[0] + g.efluential_share * q[1])
                        for g in groups)
            if max(abs(a - b) for a, b in zip(new, q, strict=True)) < 1e-13:
                return new
            q = new
        return q

    def describe(self) -> pa.Table:
        """One row per group: offspring mean and dispersion (relay and root), delay median, share.

        Examples
        --------
        >>> BranchingModel.preset("web").describe().num_rows
        6
        """
        rows = []
        for (valence, role), g in sorted(self.groups.items()):
            ro = g.root_offspring or g.offspring
            rows.append({"valence": valence, "role": role, "offspring_mean": g.offspring.mean,
                         "offspring_dispersion": g.offspring.dispersion, "root_offspring_mean": ro.mean,
                         "root_offspring_dispersion": ro.dispersion,
                         "delay_median_seconds": g.delay.median,
                         "root_delay_median_seconds": (g.root_delay or g.delay).median,
                         "efluential_share": g.efluential_share, "nodes": g.nodes, "roots": g.roots})
        return pa.Table.from_pylist(rows)


@dataclass
class Simulation:
    """Simulated cascades: one entry per run.

    ``sizes`` participants (roots included), ``depths`` generations, ``times`` time to
    half the final size in seconds (when asked for), ``capped`` whether a cap stopped it.
    """

    sizes: np.ndarray
    depths: np.ndarray
    capped: np.ndarray
    times: np.ndarray | None = None

    @property
    def mean(self) -> float:
        """Mean size."""
        return float(self.sizes.mean())

    def interval(self, lo: float = 5, hi: float = 95) -> tuple[float, float]:
        """Percentile interval of the size."""
        a, b = np.percentile(self.sizes, [lo, hi])
        return float(a), float(b)


def simulate(
    model: BranchingModel,
    roots: Sequence[tuple[str, str]] = (("positive", "ordinary"),),
    runs: int = 1_000,
    seed: int | Sequence[int] = 0,
    max_size: int | None = None,
    times: bool = False,
) -> Simulation:
    """Monte-Carlo cascades started by ``roots`` (each a ``(valence, role)``), all in one cascade.

    Parameters
    ----------
    model : BranchingModel
    roots : sequence of (str, str)
        The first tellers of each simulated cascade.
    runs : int
        Independent cascades.
    seed : int
        Random seed (the result is a function of it).
    max_size : int, optional
        Participant cap (default ``model.max_size``).
    times : bool
        Also return the time to half the final size.

    Examples
    --------
    Poisson offspring with mean 0.5 gives 1 / (1 - 0.5) = 2 participants on average:

    >>> m = BranchingModel({("neutral", "ordinary"): Group(Offspring(0.5), Delay(0.0, 1.0))})
    >>> round(simulate(m, [("neutral", "ordinary")], runs=20_000).mean, 1)
    2.0
    """
    cap = model.max_size if max_size is None else max_size
    if not roots:
        raise WhuffieError("simulate: give at least one root (valence, role)")
    keys = sorted(model.groups)
    index = {k: i for i, k in enumerate(keys)}
    groups = [model.groups[k] for k in keys]
    # For each group, the groups a reached person falls into: (ordinary, e-fluential) of its valence.
    reached = np.array([[index[_key(model, v, r)] for r in ROLES] for v, _ in keys], dtype=np.int64)
    share = np.array([g.efluential_share for g in groups])
    rng = np.random.default_rng(seed)
    start = np.array([index[_key(model, v, r)] for v, r in roots], dtype=np.int64)
    run = np.repeat(np.arange(runs), len(start))
    grp = np.tile(start, runs)
    when = np.zeros(len(run))
    sizes = np.full(runs, min(len(start), cap), dtype=np.int64)
    depths = np.zeros(runs, dtype=np.int64)
    capped = np.zeros(runs, dtype=bool)
    seen_runs, seen_times = [run], [when]
    for gen in range(model.max_depth + 1):
        if not len(run):
            break
        counts = np.zeros(len(run), dtype=np.int64)
        for g in np.unique(grp):
            at = grp == g
            dist = groups[g].root_offspring if gen == 0 and groups[g].root_offspring else groups[g].offspring
            counts[at] = dist.sample(rng, int(at.sum()))
        if gen == model.max_depth:
            capped[np.unique(run[counts > 0])] = True
            break
        # Parents are grouped by run: the children counted so far within the run, clipped to the
        # room left under the cap before any child is made (a supercritical generation is huge).
        total = np.cumsum(counts)
        first = np.searchsorted(run, run, side="left")
        within = total - np.where(first > 0, total[first - 1], 0)
        room = (cap - sizes)[run]
        kept = np.minimum(within, room) - np.minimum(within - counts, room)
        capped[np.unique(run[kept < counts])] = True
        parent = np.repeat(np.arange(len(run)), kept)
        child_run = run[parent]
        pg = grp[parent]
        delay = np.empty(len(parent))
        for g in np.unique(pg):
            at = pg == g
            d = groups[g].root_delay if gen == 0 and groups[g].root_delay else groups[g].delay
            delay[at] = d.sample(rng, int(at.sum()))
        when = when[parent] + delay
        grp = reached[pg, (rng.random(len(pg)) < share[pg]).astype(np.int64)]
        run = child_run
        sizes += np.bincount(run, minlength=runs)
        depths[np.unique(run)] = gen + 1
        if times:
            seen_runs.append(run)
            seen_times.append(when)
    half = _time_to_half(np.concatenate(seen_runs), np.concatenate(seen_times), sizes) if times else None
    return Simulation(sizes, depths, capped, half)


#: A supercritical forecast follows at most this many participants per run, in at most this many runs,
#: this many runs at a time: its answer is analytic (the chance it never dies out), the simulation
#: only shows the runs that die out, in bounded time and memory. A process that dies out does so
#: early: from 100 participants on, its chance of dying out is below q ** (the tellers alive), nil.
SUPERCRITICAL_CAP = 100
SUPERCRITICAL_RUNS = 2_000
SUPERCRITICAL_CHUNK = 500


@dataclass
class Forecast:
    """A forecast of a cascade's reach: the simulation, and what theory says about its growth.

    Attributes
    ----------
    simulation : Simulation
        The Monte-Carlo runs (capped at :data:`SUPERCRITICAL_CAP` participants when supercritical).
    reproduction : float
        People each teller tells on average over generations (see
        :meth:`BranchingModel.reproduction`); above 1 the process is supercritical.
    survival : float
        Probability that word of mouth never dies out (0 when subcritical).
    """

    simulation: Simulation
    reproduction: float
    survival: float

    @property
    def supercritical(self) -> bool:
        """Whether each teller tells more than one person on average: no finite expected reach."""
        return self.reproduction > 1


def forecast(model: BranchingModel, roots: Sequence[tuple[str, str]] = (("positive", "ordinary"),),
             runs: int = 1_000, seed: int = 0) -> Forecast:
    """Forecast a cascade started by ``roots``: simulated when it dies out, analytic when it grows forever.

    A subcritical process (each teller tells fewer than one person on average, over generations)
    is simulated as by :func:`simulate`. A supercritical one has no finite expected reach: the
    probability that it never dies out is computed (:meth:`BranchingModel.survival`), and the
    simulation, bounded to :data:`SUPERCRITICAL_RUNS` runs of at most :data:`SUPERCRITICAL_CAP`
    participants, run :data:`SUPERCRITICAL_CHUNK` at a time, shows the runs that die out.

    Examples
    --------
    >>> f = forecast(BranchingModel.preset("web"), [("negative", "ordinary")], runs=10_000)
    >>> f.supercritical, round(f.survival, 4), len(f.simulation.sizes), int(f.simulation.sizes.max())
    (True, 0.9997, 2000, 100)
    """
    if not roots:
        raise WhuffieError("forecast: give at least one root (valence, role)")
    reproduction = max(model.reproduction(v) for v, _ in roots)
    if reproduction <= 1:
        return Forecast(simulate(model, roots, runs=runs, seed=seed), reproduction, 0.0)
    runs = min(runs, SUPERCRITICAL_RUNS)
    parts = [simulate(model, roots, runs=min(SUPERCRITICAL_CHUNK, runs - start), seed=[seed, start],
                      max_size=SUPERCRITICAL_CAP) for start in range(0, runs, SUPERCRITICAL_CHUNK)]
    joined = Simulation(np.concatenate([p.sizes for p in parts]), np.concatenate([p.depths for p in parts]),
                        np.concatenate([p.capped for p in parts]))
    return Forecast(joined, reproduction, model.survival(roots))


def _key(model: BranchingModel, valence: str, role: str) -> tuple[str, str]:
    for r in (role, *[x for x in ROLES if x != role]):
        if (valence, r) in model.groups:
            return valence, r
    raise WhuffieError(f"the {model.name} branching model has no valence {valence!r}; "
                       f"it knows {', '.join(model.valences)}")


def _time_to_half(run: np.ndarray, when: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """The ``ceil(size / 2)``-th earliest time of each run (every node is a distinct person)."""
    order = np.lexsort((when, run))
    first = np.searchsorted(run[order], np.arange(len(sizes)))
    return when[order][first + (sizes + 1) // 2 - 1]


# -- fitting -----------------------------------------------------------------------------------


def fit_offspring(counts: np.ndarray, empirical: bool = False) -> Offspring:
    """Negative binomial by maximum likelihood (or the empirical counts).

    The mean's MLE is the sample mean; the dispersion ``k`` maximises the profile
    likelihood (``scipy.optimize.minimize_scalar`` on ``log k``). Data no more
    variable than Poisson give ``k = inf``.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> o = fit_offspring(rng.negative_binomial(0.5, 0.5 / (0.5 + 3.0), 20_000))
    >>> round(o.mean, 1), round(o.dispersion, 2)
    (3.0, 0.5)
    """
    counts = np.asarray(counts, dtype=np.int64)
    if not len(counts):
        return Offspring(0.0)
    m = float(counts.mean())
    if empirical:
        return Offspring(m, math.inf, counts)
    if m == 0 or counts.var() <= m:
        return Offspring(m)
    values, freq = np.unique(counts, return_counts=True)

    def nll(logk: float) -> float:
        k = math.exp(logk)
        return -float((freq * stats.nbinom.logpmf(values, k, k / (k + m))).sum())

    res = optimize.minimize_scalar(nll, bounds=(math.log(1e-4), math.log(K_MAX)), method="bounded")
    k = math.exp(res.x)
    return Offspring(m, math.inf if k >= K_MAX / 2 else k)


def fit_delay(seconds: np.ndarray, empirical: bool = False) -> Delay:
    """Lognormal by maximum likelihood on the positive delays (or the empirical ones).

    Examples
    --------
    >>> d = fit_delay(np.exp(np.random.default_rng(2).normal(5.0, 2.0, 50_000)))
    >>> round(d.mu, 1), round(d.sigma, 1)
    (5.0, 2.0)
    """
    s = np.asarray(seconds, dtype=np.float64)
    s = s[np.isfinite(s) & (s > 0)]
    if not len(s):
        return Delay(math.log(3600.0), PRESET_DELAY_SIGMA)
    logs = np.log(s)
    return Delay(float(logs.mean()), float(logs.std()), s if empirical else None)


def fit_branching(
    cascade_set: CascadeSet,
    by: str = "valence",
    efluentials: Iterable[str] | None = None,
    separate_root: bool = True,
    empirical: bool = False,
    max_size: int = 10_000,
    max_depth: int = 100,
) -> BranchingModel:
    """Fit offspring and delay distributions per (valence or label, role) from observed cascades.

    Every node's offspring is its number of children in the trees (leaves 0); a
    delay is a child's time minus its parent's. A node's valence is its cascade
    root's ``valence`` (``by="valence"``) or ``label`` (``by="label"``), ``unknown``
    when NULL; its role is ``efluential`` when its author is in ``efluentials`` (else
    the cascade set's ``efluential`` column, from the newest ``efluentials`` result).
    Stub roots have no content and no time: their offspring count, their delays do not.

    Parameters
    ----------
    cascade_set : CascadeSet
    by : {"valence", "label"}
    efluentials : iterable of str, optional
        Actor ids of the e-fluentials.
    separate_root : bool
        Fit the roots' offspring and delays apart from everyone else's.
    empirical : bool
        Keep the observed counts and delays instead of the parametric fits.
    max_size, max_depth : int
        Simulation caps of the model.

    Examples
    --------
    >>> cs = CascadeSet(pa.table({"cascade": ["a"] * 3, "message_id": ["a", "b", "c"],
    ...     "actor_id": ["x", "y", "z"], "parent_id": [None, "a", "b"], "depth": [0, 1, 2],
    ...     "delay_seconds": [0.0, 60.0, 180.0], "stub": [False] * 3, "efluential": [False] * 3}),
    ...     pa.table({"cascade": ["a"], "valence": ["positive"], "label": [None]}))
    >>> g = fit_branching(cs).group("positive")
    >>> g.root_offspring.mean, g.offspring.mean, round(g.delay.median, 6)
    (1.0, 0.5, 120.0)
    """
    if by not in ("valence", "label"):
        raise WhuffieError(f"fit_branching: by={by!r}; use 'valence' or 'label'")
    nodes = _tellers(cascade_set, by, efluentials)
    if not nodes.num_rows:
        raise WhuffieError("fit_branching: the cascade set is empty; nothing to fit")
    cols = {c: nodes[c].to_numpy(zero_copy_only=False) for c in nodes.column_names}
    groups = {}
    for valence, role in sorted(set(zip(cols["valence"].tolist(), cols["role"].tolist(), strict=True))):
        mine = (cols["valence"] == valence) & (cols["role"] == role)
        root = mine & cols["is_root"]
        relay = mine & ~cols["is_root"]
        delays = cols["delays"]
        children = cols["children"][mine].sum()
        share = float(cols["efl_children"][mine].sum() / children) if children else 0.0
        if separate_root:
            rel = relay if relay.any() else mine
            group = Group(
                fit_offspring(cols["children"][rel], empirical), fit_delay(_flat(delays[rel]), empirical),
                fit_offspring(cols["children"][root], empirical) if root.any() else None,
                fit_delay(_flat(delays[root]), empirical) if root.any() else None,
                share, int(mine.sum()), int(root.sum()))
        else:
            group = Group(fit_offspring(cols["children"][mine], empirical),
                          fit_delay(_flat(delays[mine]), empirical),
                          efluential_share=share, nodes=int(mine.sum()), roots=int(root.sum()))
        groups[(valence, role)] = group
    kind = "empirical" if empirical else "negative binomial offspring, lognormal delays"
    note = (f"Fitted on {len(cascade_set)} cascades by {by} ({kind}"
            f"{', roots apart' if separate_root else ''}).")
    return BranchingModel(groups, name="fitted", is_preset=False, note=note, by=by,
                          max_size=max_size, max_depth=max_depth)


def _flat(lists: np.ndarray) -> np.ndarray:
    return np.concatenate([np.asarray(x, dtype=np.float64) for x in lists]) if len(lists) else np.zeros(0)


def _tellers(cs: CascadeSet, by: str, efluentials: Iterable[str] | None) -> pa.Table:
    """Per node: valence, role, is_root, children, e-fluential children, delays to its children.

    Rows and delays come in a fixed order, so empirical fits sample the same way on every run.
    """
    tables = {"nodes": offspring(cs), "summary": cs.summary.select(["cascade", by])}
    if efluentials is not None:
        tables["efl"] = pa.table({"actor_id": pa.array(sorted(set(efluentials)), pa.string())})
        role = "coalesce(n.actor_id IN (SELECT actor_id FROM efl), false)"
        child_efl = "coalesce(c.actor_id IN (SELECT actor_id FROM efl), false)"
    else:
        role, child_efl = "coalesce(n.efluential, false)", "coalesce(c.efluential, false)"
    return arrowsql.query(f"""
        WITH kids AS (
            SELECT c.parent_id, count(*) FILTER (WHERE {child_efl}) AS efl_children,
                   list(c.delay_seconds - p.delay_seconds ORDER BY c.message_id) FILTER (
                       WHERE c.delay_seconds IS NOT NULL AND p.delay_seconds IS NOT NULL
                         AND NOT coalesce(p.stub, false)) AS delays
              FROM nodes c JOIN nodes p ON p.message_id = c.parent_id
             GROUP BY c.parent_id
        )
        SELECT coalesce(s.{by}, '{UNKNOWN}') AS valence,
               CASE WHEN {role} THEN 'efluential' ELSE 'ordinary' END AS role,
               n.parent_id IS NULL AS is_root, n.children,
               coalesce(k.efl_children, 0) AS efl_children, coalesce(k.delays, []) AS delays
          FROM nodes n JOIN summary s ON s.cascade = n.cascade
          LEFT JOIN kids k ON k.parent_id = n.message_id
         ORDER BY n.cascade, n.depth, n.message_id
    """, **tables)


# -- goodness of fit ---------------------------------------------------------------------------


def _root_groups(cs: CascadeSet, model: BranchingModel, efluentials: Iterable[str] | None) -> np.ndarray:
    """The (valence, role) of each cascade's root, as ``valence\\x1frole`` strings in summary order."""
    valence = np.array([v if v is not None else UNKNOWN
                        for v in cs.summary[model.by].to_pylist()], dtype=object)
    if efluentials is not None:
        efl = set(efluentials)
        roles = [a in efl for a in cs.summary["root"].to_pylist()]
    else:
        roots = cs.nodes.filter(pc.is_null(cs.nodes["parent_id"]))
        flag = dict(zip(roots["cascade"].to_pylist(), roots["efluential"].to_pylist(), strict=True))
        roles = [bool(flag.get(c)) for c in cs.summary["cascade"].to_pylist()]
    return np.array([f"{v}\x1f{ROLES[int(r)]}" for v, r in zip(valence, roles, strict=True)], dtype=object)


def goodness(
    model: BranchingModel,
    cascade_set: CascadeSet,
    per_cascade: int = 20,
    seed: int = 0,
    efluentials: Iterable[str] | None = None,
) -> dict:
    """Simulated vs observed size and depth distributions: two-sample KS per root group and overall.

    Each observed cascade is matched by ``per_cascade`` simulated ones started by a
    root of its group, so the pooled simulated sample has the observed mix of groups.

    Returns
    -------
    dict
        ``groups``: one dict per (valence, role) of the roots with ``cascades``,
        ``ks_size``, ``p_size``, ``ks_depth``, ``p_depth``, observed and simulated
        mean size and depth, the share of runs stopped by a cap; ``all``: the same pooled;
        ``simulated``: ``{group: Simulation}``.

    Examples
    --------
    >>> m = BranchingModel({("neutral", "ordinary"): Group(Offspring(0.5), Delay(0.0, 1.0))}, by="valence")
    >>> cs = CascadeSet(pa.table({"cascade": ["a", "b"], "parent_id": [None, None],
    ...     "efluential": [False, False]}),
    ...     pa.table({"cascade": ["a", "b"], "root": ["x", "y"], "size": [1, 3], "depth": [0, 1],
    ...               "valence": ["neutral", "neutral"]}))
    >>> sorted(goodness(m, cs)["all"])[:3]
    ['capped', 'cascades', 'depth_observed']
    """
    keys = _root_groups(cascade_set, model, efluentials)
    sizes = cascade_set.summary["size"].to_numpy()
    depths = cascade_set.summary["depth"].to_numpy()
    out_groups, sims = [], {}
    all_s, all_d, all_cap = [], [], []
    for i, key in enumerate(sorted(set(keys.tolist()))):
        valence, role = key.split("\x1f")
        at = keys == key
        sim = simulate(model, [(valence, role)], runs=per_cascade * int(at.sum()), seed=seed + i)
        sims[(valence, role)] = sim
        out_groups.append({"valence": valence, "role": role,
                           **_compare(sizes[at], depths[at], sim.sizes, sim.depths, sim.capped)})
        all_s.append(sim.sizes)
        all_d.append(sim.depths)
        all_cap.append(sim.capped)
    overall = _compare(sizes, depths, np.concatenate(all_s), np.concatenate(all_d), np.concatenate(all_cap))
    return {"groups": out_groups, "all": overall, "simulated": sims}


def _compare(size, depth, sim_size, sim_depth, capped) -> dict:
    ks_s = stats.ks_2samp(size, sim_size)
    ks_d = stats.ks_2samp(depth, sim_depth)
    return {"cascades": len(size), "ks_size": float(ks_s.statistic), "p_size": float(ks_s.pvalue),
            "ks_depth": float(ks_d.statistic), "p_depth": float(ks_d.pvalue),
            "size_observed": float(np.mean(size)), "size_simulated": float(np.mean(sim_size)),
            "depth_observed": float(np.mean(depth)), "depth_simulated": float(np.mean(sim_depth)),
            "capped": float(np.mean(capped))}


def holdout(
    cascade_set: CascadeSet,
    share: float = 0.7,
    seed: int = 0,
    by: str = "valence",
    efluentials: Iterable[str] | None = None,
    per_cascade: int = 20,
    **fit_options,
) -> dict:
    """Fit on a random ``share`` of the cascades, forecast the rest.

    Returns
    -------
    dict
        ``model`` (fitted on the training part), ``train`` and ``test`` (cascade
        counts), ``goodness`` (:func:`goodness` on the test part), ``coverage``
        (share of test cascades whose observed size lies in the 5-95% interval of
        the sizes simulated for their root's group) and ``coverage_by_group``.

    Examples
    --------
    >>> cs = CascadeSet(pa.table({"cascade": list("abcd"), "message_id": list("abcd"),
    ...     "actor_id": list("wxyz"), "parent_id": [None] * 4, "depth": [0] * 4,
    ...     "delay_seconds": [0.0] * 4, "stub": [False] * 4, "efluential": [False] * 4}),
    ...     pa.table({"cascade": list("abcd"), "root": list("wxyz"), "size": [1] * 4, "depth": [0] * 4,
    ...               "valence": ["neutral"] * 4, "label": [None] * 4}))
    >>> h = holdout(cs, share=0.5)
    >>> h["train"], h["test"], h["coverage"]
    (2, 2, 1.0)
    """
    if not 0 < share < 1:
        raise WhuffieError(f"holdout: share={share}; give the training share, between 0 and 1")
    ids = np.array(sorted(cascade_set.summary["cascade"].to_pylist()), dtype=object)
    perm = np.random.default_rng(seed).permutation(len(ids))
    cut = round(share * len(ids))
    train, test = cascade_set.select(ids[perm[:cut]]), cascade_set.select(ids[perm[cut:]])
    if not len(train) or not len(test):
        raise WhuffieError(f"holdout: {len(ids)} cascades are too few to split {share:.0%} / {1 - share:.0%}")
    model = fit_branching(train, by=by, efluentials=efluentials, **fit_options)
    fit = goodness(model, test, per_cascade=per_cascade, seed=seed, efluentials=efluentials)
    keys = _root_groups(test, model, efluentials)
    sizes = test.summary["size"].to_numpy()
    inside = np.zeros(len(sizes), dtype=bool)
    by_group = {}
    for (valence, role), sim in fit["simulated"].items():
        at = keys == f"{valence}\x1f{role}"
        lo, hi = sim.interval(5, 95)
        inside[at] = (sizes[at] >= lo) & (sizes[at] <= hi)
        by_group[(valence, role)] = {"cascades": int(at.sum()), "interval": (lo, hi),
                                     "coverage": float(inside[at].mean())}
    return {"model": model, "train": len(train), "test": len(test), "goodness": fit,
            "coverage": float(inside.mean()), "coverage_by_group": by_group}
