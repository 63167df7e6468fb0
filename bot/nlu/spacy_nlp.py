"""SpacyNLP that loads only what the pipeline uses, once per process.

Rasa's stock SpacyNLP has two costs we do not need (measured in docs/performance.md):

- Rasa 3.6 builds two graph nodes from it (`provide_SpacyNLP0` and `run_SpacyNLP0`), and
  each node's `load` calls `spacy.load`: the model was loaded twice at every start.
- It runs the whole spaCy pipeline except the parser (tok2vec, morphologizer,
  attribute_ruler, lemmatizer, ner) on every message, ~4.5 ms per message here, although
  our pipeline reads only spaCy's tokens (FrenchTokenizer replaces lemmas by folded
  surface forms) and the static word vectors (SpacyFeaturizer).

This component loads `fr_core_news_md` without those pipes and without the 713,000-entry
string table (word vectors are looked up by hash, not by string), and shares one loaded
model between the two nodes. Tokens and vectors are identical to the stock component's
(tests/unit/bot/test_spacy_nlp.py checks it).
"""

from __future__ import annotations

import logging
import threading
from typing import Dict, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.model import InvalidModelError
from rasa.nlu.utils.spacy_utils import SpacyModel, SpacyNLP

from bot.rasa_version import require_supported_rasa

logger = logging.getLogger(__name__)
require_supported_rasa("bot/nlu/spacy_nlp.py")  # replaces how Rasa 3.6.21 loads spaCy

# Everything that spaCy's trained French pipelines can contain besides the tokenizer and
# the vocabulary; "strings" is the vocabulary's string table.
UNUSED_PARTS = (
    "tok2vec",
    "morphologizer",
    "tagger",
    "parser",
    "senter",
    "attribute_ruler",
    "lemmatizer",
    "ner",
    "strings",
)

_cache: Dict[Text, SpacyModel] = {}
_lock = threading.Lock()


def load_tokenizer_and_vectors(name: Text) -> SpacyModel:
    """Load the spaCy model `name` once per process, tokenizer and vectors only."""
    import spacy

    with _lock:
        if name not in _cache:
            try:
                language = spacy.load(name, exclude=list(UNUSED_PARTS))
            except OSError as error:
                raise InvalidModelError(
                    f"Le modèle spaCy '{name}' est introuvable : lancez `make install`."
                ) from error
            logger.info("spaCy model '%s' loaded (tokenizer and vectors only).", name)
            _cache[name] = SpacyModel(model=language, model_name=name)
        return _cache[name]


@DefaultV1Recipe.register(
    [
        DefaultV1Recipe.ComponentType.MODEL_LOADER,
        DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER,
    ],
    is_trainable=False,
    model_from="FrenchSpacyNLP",
)
class FrenchSpacyNLP(SpacyNLP):
    """Provides spaCy's tokenizer and word vectors, loaded once, to the pipeline."""

    @staticmethod
    def load_model(spacy_model_name: Text) -> SpacyModel:
        if not spacy_model_name:
            raise InvalidModelError("FrenchSpacyNLP needs a `model` in config.yml.")
        return load_tokenizer_and_vectors(spacy_model_name)
