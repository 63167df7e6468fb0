"""bot/rasa_version.py: our patches of Rasa refuse to run on another Rasa version."""

from __future__ import annotations

import importlib

import pytest
import rasa

from bot import fail_closed, rasa_fixes
from bot.nlu import spacy_nlp
from bot.rasa_version import SUPPORTED_RASA_VERSION, UnsupportedRasaVersion, require_supported_rasa


@pytest.fixture
def other_rasa(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(rasa, "__version__", "3.7.0")
    return "3.7.0"


def test_the_installed_rasa_is_the_supported_one() -> None:
    assert rasa.__version__ == SUPPORTED_RASA_VERSION
    require_supported_rasa("test")


def test_the_error_names_the_patch_and_both_versions(other_rasa: str) -> None:
    with pytest.raises(UnsupportedRasaVersion) as error:
        require_supported_rasa("bot/rasa_fixes.py")
    message = str(error.value)
    assert "bot/rasa_fixes.py" in message
    assert SUPPORTED_RASA_VERSION in message and other_rasa in message


@pytest.mark.parametrize("module", [rasa_fixes, fail_closed], ids=["rasa_fixes", "fail_closed"])
def test_the_patches_refuse_another_rasa(
    module: object, other_rasa: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(module, "_applied", False)
    with pytest.raises(UnsupportedRasaVersion, match=other_rasa):
        module.apply()  # type: ignore[attr-defined]


def test_the_quick_loading_component_refuses_another_rasa(other_rasa: str) -> None:
    with pytest.raises(UnsupportedRasaVersion, match=other_rasa):
        importlib.reload(spacy_nlp)
