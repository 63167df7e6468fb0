"""Masking of personal data typed in messages (bot/insights/privacy.py)."""

from __future__ import annotations

import pytest

from bot.insights.privacy import mask

MASKED = {  # typed: shown
    "écrivez à jeanne.martin@ville-exemple.fr svp": "écrivez à [e-mail] svp",
    "mon adresse : Jeanne_Martin@Saint-Aubin.FR.": "mon adresse : [e-mail].",
    "appelez le 06 12 34 56 78": "appelez le [téléphone]",
    "tel +33 6 12 34 56 78 ou 0612345678": "tel [téléphone] ou [téléphone]",
    "au 01.23.45.67.89 demain": "au [téléphone] demain",
    "Je m'appelle Jeanne Martin et je cherche un réseau": "Je m'appelle [nom] et je cherche un réseau",
    "bonjour, je suis Marie Curie, maire de Brest": "bonjour, je suis [nom], maire de Brest",
    "mon nom est dupont": "mon nom est [nom]",
    "Cordialement, Paul": "Cordialement, [nom]",
}


@pytest.mark.parametrize("typed, shown", MASKED.items())
def test_personal_data_is_masked(typed: str, shown: str) -> None:
    assert mask(typed) == shown


@pytest.mark.parametrize("typed", [
    "je suis élue à Lyon et je cherche un réseau",
    "un réseau créé en 2019 avec 12 villes",
    "Quels réseaux à Saint-Étienne ?",
    "c'est quoi URBACT ?",
])
def test_ordinary_questions_stay_readable(typed: str) -> None:
    assert mask(typed) == typed
