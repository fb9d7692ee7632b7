"""Content similarity: TF-IDF over each video's caption, hashtags and product titles.

Terms are hashed (CRC-32, stable across processes, unlike Python's ``hash``) into 2^18 buckets, so a
brand-new video never meets an unknown vocabulary: it gets its vector the moment it is published and can
be a candidate at once. Queries run on an inverted index (the CSC layout of the item × term matrix): the
cost is the postings of the query's terms, not the catalogue. ``lsa`` turns the matrix into dense vectors
for the model's cold-start content component.
"""

from __future__ import annotations

import re
import threading
import zlib
from collections.abc import Iterable, Sequence

import numpy as np
import scipy.sparse as sp

from etalage.feed.components import row_entries, weighted_rows

BUCKETS = 1 << 18
_WORD = re.compile(r"[^\W_]{2,}", re.UNICODE)
STOPWORDS = frozenset(
    [
        "the",
        "and",
        "for",
        "with",
        "this",
        "that",
        "you",
        "your",
        "our",
        "from",
        "are",
        "was",
        "were",
        "have",
        "has",
        "not",
        "but",
        "all",
        "new",
        "get",
        "now",
        "de",
        "het",
        "een",
        "en",
        "van",
        "voor",
        "met",
        "op",
        "te",
        "dat",
        "die",
        "is",
        "zijn",
        "niet",
        "maar",
        "ook",
        "le",
        "la",
        "les",
        "des",
        "un",
        "une",
        "et",
        "pour",
        "avec",
        "dans",
        "sur",
        "est",
        "pas",
        "ce",
        "qui",
        "que",
        "el",
        "los",
        "las",
        "del",
        "por",
        "con",
        "para",
        "una",
        "que",
        "der",
        "die",
        "das",
        "und",
        "mit",
        "ist",
        "ein",
        "eine",
    ]
)


def tokens(text: str) -> list[str]:
    return [t for t in _WORD.findall(text.lower()) if t not in STOPWORDS]


def item_text(caption: str, hashtags: Iterable[str], product_titles: Iterable[str]) -> list[str]:
    # Hashtags are what creators choose to be found by: they count twice.
    tags = [t.lower().lstrip("#") for t in hashtags]
    return tokens(caption) + tags + tags + tokens(" ".join(product_titles))


def hashed(words: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(term ids, counts) of a bag of words."""
    if not words:
        return np.zeros(0, np.int64), np.zeros(0, np.float32)
    ids = np.fromiter((zlib.crc32(w.encode()) % BUCKETS for w in words), np.int64, len(words))
    terms, counts = np.unique(ids, return_counts=True)
    return terms, counts.astype(np.float32)


CHAMPIONS = 2048  # postings kept per term, the heaviest first (a query walks at most 24 terms' lists)


def champion_lists(csc: sp.csc_matrix, keep: int) -> sp.csc_matrix:
    """Each term's postings cut to its ``keep`` heaviest (Manning et al., "champion lists"): a word in
    half of 100,000 captions made a personal page walk 50,000 postings for it, and items that share only
    common words with the history are not the ones the content source should bring anyway."""
    lens = np.diff(csc.indptr)
    if not len(lens) or lens.max(initial=0) <= keep:
        return csc
    col = np.repeat(np.arange(len(lens)), lens)
    order = np.lexsort((-csc.data, col))  # by term, heaviest first within a term
    rank = np.arange(len(order)) - csc.indptr[col[order]]
    kept = order[rank < keep]
    indptr = np.zeros(len(lens) + 1, np.int64)
    np.cumsum(np.minimum(lens, keep), out=indptr[1:])
    return sp.csc_matrix((csc.data[kept], csc.indices[kept], indptr), shape=csc.shape)


class TextIndex:
    """Item × term TF-IDF vectors with an inverted index (champion lists: each term's heaviest postings);
    rows added after a build live in a side list until the next rebuild (publishing a video costs one
    small row, not a matrix copy)."""

    def __init__(self) -> None:
        self.df = np.zeros(BUCKETS, np.int32)
        self.n_docs = 0
        self.csc = sp.csc_matrix((0, BUCKETS), dtype=np.float32)
        self.csr = sp.csr_matrix((0, BUCKETS), dtype=np.float32)
        self.extra: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._lock = threading.Lock()

    def idf(self, terms: np.ndarray) -> np.ndarray:
        return (np.log((1.0 + self.n_docs) / (1.0 + self.df[terms])) + 1.0).astype(np.float32)

    def _vector(self, terms: np.ndarray, counts: np.ndarray) -> np.ndarray:
        w = np.log1p(counts) * self.idf(terms)
        norm = float(np.linalg.norm(w))
        return w / norm if norm > 0 else w

    def build(self, docs: Sequence[Sequence[str]]) -> None:
        """Replace everything with these documents (row i = item index i)."""
        bags = [hashed(d) for d in docs]
        df = np.zeros(BUCKETS, np.int32)
        for terms, _ in bags:
            df[terms] += 1
        self.df, self.n_docs = df, len(docs)
        indptr = np.zeros(len(bags) + 1, np.int64)
        np.cumsum([len(t) for t, _ in bags], out=indptr[1:])
        indices = np.concatenate([t for t, _ in bags]) if bags else np.zeros(0, np.int64)
        data = (
            np.concatenate([self._vector(t, c) for t, c in bags]).astype(np.float32)
            if bags
            else np.zeros(0, np.float32)
        )
        csr = sp.csr_matrix((data, indices, indptr), shape=(len(bags), BUCKETS))
        champions = champion_lists(csr.tocsc(), CHAMPIONS)
        with self._lock:
            self.csr, self.csc, self.extra = csr, champions, {}

    def add(self, row: int, words: Sequence[str]) -> None:
        terms, counts = hashed(words)
        with self._lock:
            if row >= self.csr.shape[0]:
                self.df[terms] += 1
                self.n_docs += 1
            self.extra[row] = (terms, self._vector(terms, counts))

    def vector(self, row: int) -> tuple[np.ndarray, np.ndarray]:
        extra = self.extra.get(row)
        if extra is not None:
            return extra
        if row < self.csr.shape[0]:
            lo, hi = self.csr.indptr[row], self.csr.indptr[row + 1]
            return self.csr.indices[lo:hi].astype(np.int64), self.csr.data[lo:hi]
        return np.zeros(0, np.int64), np.zeros(0, np.float32)

    def rows(self, rows: Sequence[int]) -> sp.csr_matrix:
        """The vectors of ``rows`` as a small CSR matrix (one row each, in order)."""
        rows = np.asarray(rows, dtype=np.int64)
        base_n = self.csr.shape[0]
        extra = self.extra
        in_base = rows < base_n
        if extra:
            in_base &= ~np.isin(rows, np.fromiter(extra, np.int64, len(extra)))
        if in_base.all():
            return sp.csr_matrix(self.csr[rows])
        out = sp.lil_matrix((len(rows), BUCKETS), dtype=np.float32)
        base = sp.csr_matrix(self.csr[rows[in_base]]) if in_base.any() else None
        b = 0
        for k, r in enumerate(rows.tolist()):
            if in_base[k] and base is not None:
                lo, hi = base.indptr[b], base.indptr[b + 1]
                terms, vals = base.indices[lo:hi], base.data[lo:hi]
                b += 1
            else:
                terms, vals = self.vector(r)
            out.rows[k], out.data[k] = [int(t) for t in terms], [float(v) for v in vals]
        return out.tocsr()

    def _gather(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(terms, values, owner position) of the vectors of ``ids``, flattened, with numpy only."""
        csr, extra = self.csr, self.extra
        base = ids < csr.shape[0]
        if extra:
            base &= ~np.isin(ids, np.fromiter(extra, np.int64, len(extra)))
        at = np.flatnonzero(base)
        offs, lens = row_entries(csr, ids[at])
        parts = [(csr.indices[offs].astype(np.int64), csr.data[offs], np.repeat(at, lens))]
        for k in np.flatnonzero(~base).tolist():
            terms, vals = self.vector(int(ids[k]))
            parts.append((terms.astype(np.int64), vals, np.full(len(terms), k)))
        return tuple(np.concatenate(x) for x in zip(*parts, strict=True))  # type: ignore[return-value]

    def similarity(self, rows: Sequence[int], seeds: Sequence[int]) -> np.ndarray:
        """Cosine similarities (len(rows) × len(seeds)): the seeds' terms as a small dense table, each
        row's matching terms added in (scipy's per-call overhead was most of a page's text cost)."""
        out = np.zeros((len(rows), len(seeds)), np.float32)
        if len(rows) == 0 or len(seeds) == 0:
            return out
        s_terms, s_vals, s_owner = self._gather(np.asarray(seeds, np.int64))
        if not len(s_terms):
            return out
        vocab, col = np.unique(s_terms, return_inverse=True)
        n_s = len(seeds)
        # bincount over flat cells: the same sums as np.add.at, several times faster
        table = np.bincount(col * n_s + s_owner, weights=s_vals, minlength=len(vocab) * n_s)
        table = table.reshape(len(vocab), n_s).astype(np.float32)
        r_terms, r_vals, r_owner = self._gather(np.asarray(rows, np.int64))
        pos = np.minimum(np.searchsorted(vocab, r_terms), len(vocab) - 1)
        hit = vocab[pos] == r_terms
        cells = (r_owner[hit, None] * n_s + np.arange(n_s)).ravel()
        vals = (r_vals[hit, None] * table[pos[hit]]).ravel()
        out += (
            np.bincount(cells, weights=vals, minlength=len(rows) * n_s)
            .reshape(len(rows), n_s)
            .astype(np.float32)
        )
        return out

    def query(
        self, rows: Sequence[int], weights: Sequence[float], n_items: int, max_terms: int = 24
    ) -> np.ndarray:
        """Cosine-like scores of every item against the weighted sum of ``rows``' vectors."""
        acc: dict[int, float] = {}
        for r, w in zip(rows, weights, strict=True):
            terms, vals = self.vector(int(r))
            for t, v in zip(terms.tolist(), vals.tolist(), strict=True):
                acc[t] = acc.get(t, 0.0) + w * v
        if not acc:
            return np.zeros(n_items, np.float32)
        top = sorted(acc.items(), key=lambda kv: -kv[1])[:max_terms]
        norm = float(np.sqrt(sum(v * v for _, v in top))) or 1.0
        terms = np.array([t for t, _ in top], np.int64)
        idx, vals = weighted_rows(self.csc, terms, np.array([v / norm for _, v in top]))
        keep = idx < n_items
        out = np.bincount(idx[keep], weights=vals[keep], minlength=n_items)[:n_items].astype(np.float32)
        qmap = {t: v / norm for t, v in top}
        for row, (terms, vals) in list(self.extra.items()):
            if row < n_items:
                out[row] = sum(float(v) * qmap.get(int(t), 0.0) for t, v in zip(terms, vals, strict=True))
        return out

    def matrix(self, n_items: int) -> sp.csr_matrix:
        """All rows (built and added) as one CSR matrix of ``n_items`` rows."""
        base = sp.csr_matrix(self.csr[: min(n_items, self.csr.shape[0])])
        if base.shape[0] < n_items:
            pad = sp.csr_matrix((n_items - base.shape[0], BUCKETS), dtype=np.float32)
            base = sp.vstack([base, pad], format="csr")
        extra = {r: tv for r, tv in self.extra.items() if r < n_items}
        if not extra:
            return base
        keep = np.ones(n_items, np.float32)
        keep[list(extra)] = 0.0
        rows = np.concatenate([np.full(len(t), r) for r, (t, _) in extra.items()])
        cols = np.concatenate([t for t, _ in extra.values()])
        vals = np.concatenate([v for _, v in extra.values()])
        added = sp.csr_matrix((vals, (rows, cols)), shape=(n_items, BUCKETS), dtype=np.float32)
        return sp.csr_matrix(sp.diags(keep) @ base + added)


def lsa(matrix: sp.csr_matrix, dim: int = 64, seed: int = 0) -> np.ndarray:
    """Dense item vectors (n_items × dim) from the TF-IDF matrix: a truncated SVD of its used terms."""
    from etalage.feed.components import randomized_svd

    n = matrix.shape[0]
    used = np.flatnonzero(np.diff(sp.csc_matrix(matrix).indptr) > 1)  # terms in at least two items
    if n < 3 or len(used) < 2:
        return np.zeros((n, max(1, min(dim, 2))), np.float32)
    sub = sp.csr_matrix(matrix[:, used])
    rank = max(1, min(dim, min(sub.shape) - 1))
    s, v = randomized_svd(sp.csr_matrix(sub.T), rank, seed=seed)
    return np.ascontiguousarray(v * s[None, :], dtype=np.float32)
