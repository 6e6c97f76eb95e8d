"""Tokens and n-grams shared by the checks: words for English, characters for Chinese.

Chinese has no spaces, so word n-grams would see one "word" per sentence;
character n-grams are the usual fallback and need no segmenter.
"""

from __future__ import annotations

import math
import re
from collections import Counter

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")

#: Words that say nothing about what a question is about.
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "am",
        "do",
        "does",
        "did",
        "of",
        "in",
        "on",
        "at",
        "to",
        "for",
        "from",
        "by",
        "with",
        "about",
        "as",
        "and",
        "or",
        "but",
        "if",
        "so",
        "than",
        "then",
        "that",
        "this",
        "these",
        "those",
        "it",
        "its",
        "it's",
        "i",
        "i'm",
        "me",
        "my",
        "you",
        "your",
        "you're",
        "we",
        "our",
        "they",
        "their",
        "he",
        "she",
        "his",
        "her",
        "them",
        "what",
        "who",
        "whom",
        "whose",
        "which",
        "when",
        "where",
        "why",
        "how",
        "can",
        "could",
        "would",
        "should",
        "will",
        "shall",
        "may",
        "might",
        "must",
        "please",
        "tell",
        "give",
        "name",
        "say",
        "write",
        "one",
        "any",
        "some",
        "all",
        "most",
        "more",
        "very",
        "just",
        "there",
        "here",
        "no",
        "not",
        "yes",
        "into",
        "out",
        "up",
        "down",
        "over",
        "under",
        "again",
        "also",
        "only",
        "own",
        "same",
        "such",
        "too",
        "s",
        "t",
        "don't",
        "can't",
        "won't",
        "i'd",
        "i'll",
        "let's",
        "like",
        "make",
        "get",
        "know",
        "think",
        "world",
        "ever",
        "best",
    ]
)


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text))


def words(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


def cjk_chars(text: str) -> str:
    return "".join(_CJK.findall(text))


def ngrams(text: str, n_words: int = 3, n_chars: int = 4) -> Counter[str]:
    """Word n-grams of the Latin part plus character n-grams of the Chinese part."""
    out: Counter[str] = Counter()
    w = words(text)
    out.update(" ".join(w[i : i + n_words]) for i in range(len(w) - n_words + 1))
    c = cjk_chars(text)
    out.update(c[i : i + n_chars] for i in range(len(c) - n_chars + 1))
    return out


def char_trigrams(text: str) -> Counter[str]:
    """Character trigrams of the normalised text: works the same for both languages."""
    flat = " ".join(re.sub(r"[^\w]+", " ", text.casefold()).split())
    return Counter(flat[i : i + 3] for i in range(len(flat) - 2))


def cosine(a: Counter[str], b: Counter[str]) -> float:
    if not a or not b:
        return 0.0
    dot = sum(v * b[k] for k, v in a.items() if k in b)
    return dot / (math.sqrt(sum(v * v for v in a.values())) * math.sqrt(sum(v * v for v in b.values())))


def similarity(a: str, b: str) -> float:
    """Character-trigram cosine in [0, 1]: promptfoo's ``similar`` without an embedding model."""
    return cosine(char_trigrams(a), char_trigrams(b))


def content_words(text: str) -> set[str]:
    """Stems (first 5 letters) of the words that carry meaning: "planets" meets "planet"."""
    return {w[:5] for w in words(text) if w not in STOPWORDS and len(w) > 1}
