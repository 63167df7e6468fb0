"""spaCy tokenizer for French that makes the sparse features tolerant of accents.

spaCy already splits French elisions ("l'URBACT" -> "l'", "URBACT"; "qu'est-ce" -> "qu'",
"est", "-ce"). This tokenizer keeps spaCy's tokens and offsets (so entity spans stay right)
but replaces each token's lemma by its lower-cased, accent-free form. The CountVectors
featurizers read lemmas, so "reseau", "réseau" and "RÉSEAU" share one feature, and the
char n-gram featurizer sees the same folded text whatever the user typed.
"""

from __future__ import annotations

from typing import List, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.spacy_tokenizer import SpacyTokenizer
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.training_data.message import Message

from common.text import fold


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False
)
class FrenchTokenizer(SpacyTokenizer):
    """SpacyTokenizer whose lemmas are accent- and case-folded surface forms."""

    def tokenize(self, message: Message, attribute: Text) -> List[Token]:
        tokens = super().tokenize(message, attribute)
        for token in tokens:
            token.lemma = fold(token.text)
        return tokens
