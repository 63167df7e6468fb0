"""Rank the assistant's topics by how close a message is to their sentences and answers.

Pure Python and scikit-learn (no Rasa): bot/nlu/intent_rescue.py wraps it.

Each topic (intent) is represented by its training sentences and by the text of its own
answer (the `utter_<intent>` response of the domain). A message is compared to all of them
with TF-IDF over accent-folded words (one and two words) and character n-grams (typos),
with names of cities and networks replaced by a placeholder so that "et à Grenoble ?" and
"et à Agen ?" look alike. A topic's score is the mean of its three best similarities
(sentences), or its answer's similarity when that is higher.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from bot.nlu.kb_names import words_of

PLACEHOLDERS = {"city": "xvillex", "network": "xreseaux"}
TOP_K = 3
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    entity: str


def normalise(text: str, spans: Iterable[Span] = ()) -> str:
    """Folded words of ``text``; words inside a city or network span become a placeholder."""
    marks = sorted((s for s in spans if s.entity in PLACEHOLDERS), key=lambda s: s.start)
    out: List[str] = []
    last: Optional[Span] = None
    for word in words_of(text):
        span = next((s for s in marks if s.start <= word.start < s.end), None)
        if span is None:
            out.append(word.text)
        elif span is not last:
            out.append(PLACEHOLDERS[span.entity])
        last = span
    return " ".join(out)


@dataclass(frozen=True)
class Document:
    intent: str
    text: str  # normalised
    is_answer: bool


class AnswerSearch:
    """TF-IDF index of every topic's sentences and answer."""

    def __init__(self, documents: Sequence[Document], answer_weight: float = 0.8):
        self.documents = list(documents)
        self.answer_weight = answer_weight
        self.intents = sorted({d.intent for d in self.documents})
        self._intent_index = {name: i for i, name in enumerate(self.intents)}
        self.words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1)
        self.chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, min_df=2)
        texts = [d.text for d in self.documents]
        self.matrix = self._stack(self.words.fit_transform(texts), self.chars.fit_transform(texts))
        self._matrix_t = self.matrix.T.tocsr()  # query @ matrix_t only reads the query's columns
        # Positions of each topic's sentences and answers in the matrix, computed once.
        self._sentences = {
            name: np.array([i for i, d in enumerate(self.documents) if d.intent == name and not d.is_answer], dtype=int)
            for name in self.intents
        }
        self._answers = {
            name: np.array([i for i, d in enumerate(self.documents) if d.intent == name and d.is_answer], dtype=int)
            for name in self.intents
        }

    @staticmethod
    def _stack(words: sp.spmatrix, chars: sp.spmatrix) -> sp.csr_matrix:
        # Equal weight to the two views; each row is re-normalised to unit length.
        stacked = sp.hstack([words, chars]).tocsr()
        norms = np.sqrt(stacked.multiply(stacked).sum(axis=1)).A1
        norms[norms == 0] = 1.0
        return sp.diags(1.0 / norms) @ stacked

    def scores(self, text: str) -> Dict[str, float]:
        """Score of every topic for an already normalised message (0..1)."""
        if not text.strip():
            return {name: 0.0 for name in self.intents}
        query = sp.hstack([self.words.transform([text]), self.chars.transform([text])]).tocsr()
        norm = float(np.sqrt(query.data @ query.data)) or 1.0
        similarity = (query @ self._matrix_t).toarray().ravel() / norm
        result: Dict[str, float] = {}
        for name in self.intents:
            sentences = similarity[self._sentences[name]]
            if sentences.size > TOP_K:
                sentences = np.partition(sentences, -TOP_K)[-TOP_K:]
            best = float(sentences.mean()) if sentences.size else 0.0
            answers = self._answers[name]
            if answers.size:
                best = max(best, self.answer_weight * float(similarity[answers].max()))
            result[name] = best
        return result

    def ranking(self, text: str) -> List[Tuple[str, float]]:
        return sorted(self.scores(text).items(), key=lambda item: item[1], reverse=True)

    def to_json(self) -> Dict[str, object]:
        return {
            "answer_weight": self.answer_weight,
            "documents": [[d.intent, d.text, d.is_answer] for d in self.documents],
        }

    @classmethod
    def from_json(cls, data: Dict[str, Any]) -> "AnswerSearch":
        documents = [Document(str(i), str(t), bool(a)) for i, t, a in data["documents"]]
        return cls(documents, float(data.get("answer_weight", 0.8)))
