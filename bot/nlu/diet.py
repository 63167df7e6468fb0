"""DIETClassifier that loads a trained model without tracing its training graph.

To rebuild a trained model, Rasa 3.6 (`RasaModel.load`) compiles it and runs one training
step on one example so that every weight exists with the right shape, then reads the saved
weights. With the default `run_eagerly: false`, that one step traces and optimises the
whole training graph (forward pass, CRF, losses, gradients) with TensorFlow: on our 2-core
machine it took ~25 s of the assistant's start-up and several hundred MB of memory, for a
graph that is never used again.

Here that one step runs eagerly (no graph, a fraction of a second); the weights are then
read from the trained model, and prediction goes back to a traced `tf.function` exactly as
before, so answers and prediction speed are the same as the stock component's. Training is
untouched (graph mode, as configured).
"""

from __future__ import annotations

import logging
from typing import Any, Optional, Text, Type

import tensorflow as tf
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.diet_classifier import DIET, DIETClassifier
from rasa.utils.tensorflow.constants import LEARNING_RATE
from rasa.utils.tensorflow.data_generator import RasaBatchDataGenerator
from rasa.utils.tensorflow.model_data import RasaModelData
from rasa.utils.tensorflow.models import RasaModel

from bot.rasa_version import require_supported_rasa

logger = logging.getLogger(__name__)
require_supported_rasa("bot/nlu/diet.py")  # rebuilds DIET the way Rasa 3.6.21 does


class QuickLoadDIET(DIET):
    """DIET whose `load` builds its weights eagerly instead of tracing a training graph."""

    @classmethod
    def load(
        cls,
        model_file_name: Text,
        model_data_example: RasaModelData,
        predict_data_example: Optional[RasaModelData] = None,
        finetune_mode: bool = False,
        *args: Any,
        **kwargs: Any,
    ) -> "QuickLoadDIET":
        if finetune_mode:
            # Fine-tuning trains again: keep Rasa's own path.
            return super().load(
                model_file_name, model_data_example, predict_data_example, True, *args, **kwargs
            )
        model = cls(*args, **kwargs)
        learning_rate = kwargs.get("config", {}).get(LEARNING_RATE, 0.001)
        model.compile(optimizer=tf.keras.optimizers.Adam(learning_rate), run_eagerly=True)
        model.fit(RasaBatchDataGenerator(model_data_example, batch_size=1), verbose=False)
        model.load_weights(model_file_name)
        # Predict with a traced graph, as the stock component does.
        model.run_eagerly = False
        if predict_data_example:
            model.run_inference(predict_data_example)
        logger.debug("DIET model loaded from %s without tracing its training graph.", model_file_name)
        return model


@DefaultV1Recipe.register(
    [
        DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER,
        DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR,
    ],
    is_trainable=True,
)
class FrenchDIETClassifier(DIETClassifier):
    """DIETClassifier with a quicker, lighter model load (see the module docstring)."""

    @staticmethod
    def model_class() -> Type[RasaModel]:
        return QuickLoadDIET
