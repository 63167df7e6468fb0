"""CRFEntityExtractor that stores its trained model instead of retraining it at every start.

Rasa 3.6's CRFEntityExtractor keeps no trained model: it stores its training tokens
(`crf_dataset.json`, every token with its features) and trains the CRF again each time the
model is loaded. Measured here (2026-11-30, 3,507 examples): 8.4 s of every start and a
peak of 1.45 GB for Rasa, for a CRF that had already been trained.

This subclass stores each trained CRF in CRFsuite's own binary format (the file the
trainer writes, no pickle) and opens it in memory at load time. Predictions are those of
the trained model itself (tests/unit/bot/test_crf.py compares them with the stock
component's).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Dict, List, Text

import pycrfsuite
import sklearn_crfsuite
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.crf_entity_extractor import CRFEntityExtractor, CRFToken
from rasa.shared.utils.io import dump_obj_as_json_to_file, read_json_file

from bot.rasa_version import require_supported_rasa

logger = logging.getLogger(__name__)
require_supported_rasa("bot/nlu/crf.py")  # replaces how Rasa 3.6.21 persists and loads the CRF

ORDER_FILE = "crf_order.json"


def model_file(index: int) -> str:
    return f"crf_{index}.crfsuite"


def tagger_from_bytes(config: Dict[Text, Any], data: bytes) -> sklearn_crfsuite.CRF:
    """A fitted CRF whose tagger is the CRFsuite model ``data`` (opened in memory)."""
    crf = sklearn_crfsuite.CRF(
        algorithm="lbfgs",
        c1=config["L1_c"],
        c2=config["L2_c"],
        max_iterations=config["max_iterations"],
        all_possible_transitions=True,
    )
    tagger = pycrfsuite.Tagger()
    tagger.open_inmemory(data)
    crf._tagger = tagger  # what sklearn_crfsuite's `tagger_` returns once opened
    # CRFsuite reads the model from this buffer without copying it, and python-crfsuite
    # holds no reference to it: the CRF, which holds the tagger, keeps it alive.
    crf.model_bytes = data
    return crf


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True)
class StoredCRFEntityExtractor(CRFEntityExtractor):
    """See the module docstring."""

    def persist(self, dataset: List[List[CRFToken]]) -> None:
        with self._model_storage.write_to(self._resource) as model_dir:
            dump_obj_as_json_to_file(model_dir / ORDER_FILE, self.crf_order)
            for index, tag_name in enumerate(self.crf_order):
                trained = Path(self.entity_taggers[tag_name].modelfile.name)
                (model_dir / model_file(index)).write_bytes(trained.read_bytes())

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "StoredCRFEntityExtractor":
        try:
            with model_storage.read_from(resource) as model_dir:
                crf_order = read_json_file(model_dir / ORDER_FILE)
                taggers = {
                    tag_name: tagger_from_bytes(config, (model_dir / model_file(index)).read_bytes())
                    for index, tag_name in enumerate(crf_order)
                }
        except (ValueError, OSError) as error:
            logger.warning("No trained CRF in resource '%s' (%s): no entities from it.", resource.name, error)
            return cls(config, model_storage, resource)
        extractor = cls(config, model_storage, resource, taggers)
        extractor.crf_order = crf_order
        return extractor
