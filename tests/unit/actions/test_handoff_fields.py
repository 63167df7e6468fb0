"""Unit tests for actions/handoff/fields.py: checks of the hand-off form answers."""

from __future__ import annotations

import pytest

from actions.handoff.fields import (
    MAX_EMAIL_CHARS,
    check_consent,
    check_email,
    check_name,
    check_organisation,
    check_question,
    wants_to_cancel,
)


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("jeanne.dupont@ville-exemple.fr", "jeanne.dupont@ville-exemple.fr"),
        ("  Jeanne.Dupont@Ville-Exemple.FR ", "Jeanne.Dupont@ville-exemple.fr"),
        ("mon mail c'est j.dupont+urbact@agglo.fr merci", "j.dupont+urbact@agglo.fr"),
        ("mailto:contact@mairie.lu", "contact@mairie.lu"),
        ("<contact@mairie.lu>", "contact@mairie.lu"),
        ("c'est contact@mairie.lu.", "contact@mairie.lu"),
        ("o'brien@city.ie", "o'brien@city.ie"),
        ("agent@mairie-évry.fr", "agent@mairie-évry.fr"),
        ("x@sub.domain.xn--p1ai", "x@sub.domain.xn--p1ai"),
        ("Jean@Example.org ; jean@example.org", "Jean@example.org"),
    ],
)
def test_valid_addresses_are_found_and_normalised(answer: str, expected: str) -> None:
    checked = check_email(answer)
    assert checked.ok, checked.problem
    assert checked.value == expected


@pytest.mark.parametrize(
    "answer",
    [
        "",
        None,
        42,
        "jeanne.dupont",
        "jeanne@",
        "@ville.fr",
        "jeanne@ville",
        "jeanne@ville.f",
        "jeanne@ville..fr",
        "jeanne@-ville.fr",
        "jeanne@ville-.fr",
        "jeanne@ville.123",
        ".jeanne@ville.fr",
        "jeanne.@ville.fr",
        "jea..nne@ville.fr",
        "jeanne@ville_x.fr",
        "jean ne@ville.fr extra@x",
        "a@b@ville.fr",
        "x" * 65 + "@ville.fr",
        "a@" + "b" * 64 + ".fr",
    ],
)
def test_invalid_addresses_are_refused_with_a_french_reason(answer: object) -> None:
    checked = check_email(answer)
    assert not checked.ok
    assert checked.value is None
    assert checked.problem and checked.problem[0].isupper()


def test_two_different_addresses_are_refused() -> None:
    checked = check_email("a@ville.fr ou b@ville.fr")
    assert not checked.ok
    assert "une seule" in (checked.problem or "")


def test_email_length_limit() -> None:
    local = "a" * 64
    labels = ".".join(["b" * 60] * 4)
    too_long = f"{local}@{labels}.fr"
    assert len(too_long) > MAX_EMAIL_CHARS
    assert "trop longue" in (check_email(too_long).problem or "")
    fits = f"{local}@{'b' * 60}.{'c' * 60}.fr"
    assert len(fits) <= MAX_EMAIL_CHARS and check_email(fits).ok


@pytest.mark.parametrize("check", [check_name, check_organisation])
def test_names_need_letters_and_a_sensible_length(check) -> None:
    assert check("Jeanne Dupont").value == "Jeanne Dupont"
    assert check("  Jeanne\n  Dupont ").value == "Jeanne Dupont"
    assert not check("J").ok
    assert not check("1234").ok
    assert not check("x" * 200).ok
    assert not check("/greet").ok
    assert not check("jeanne@ville.fr").ok
    assert not check(None).ok


def test_question_needs_a_few_words() -> None:
    assert check_question("Peut-on candidater seuls ?").ok
    assert not check_question("oui").ok
    assert not check_question("1234567890 ?").ok
    assert not check_question("q" * 2001).ok
    assert not check_question("/request_handoff").ok
    assert check_question("Ligne 1\x00 et ligne 2 de ma question").value == "Ligne 1 et ligne 2 de ma question"


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (True, True),
        (False, False),
        ("oui", True),
        ("Oui !", True),
        ("OUI, j'accepte", True),
        ("d’accord", True),
        ("ok", True),
        ("J'accepte.", True),
        ("bien sûr", True),
        ("non", False),
        ("Non merci", False),
        ("je refuse", False),
        ("pas d'accord", False),
        ("/deny", False),
        ("/affirm", True),
    ],
)
def test_consent_is_read_from_yes_or_no(answer: object, expected: bool) -> None:
    checked = check_consent(answer)
    assert checked.ok
    assert checked.value is expected


@pytest.mark.parametrize("answer", [None, "", "peut-être", "je ne sais pas", "Jeanne Dupont", "nonobstant"])
def test_unclear_consent_is_asked_again(answer: object) -> None:
    checked = check_consent(answer)
    assert checked.value is None
    assert "oui" in (checked.problem or "")


@pytest.mark.parametrize("answer", ["annuler", "Annuler !", "stop", "laissez tomber", "j'arrête", "abandonner la demande"])
def test_cancel_words(answer: str) -> None:
    assert wants_to_cancel(answer)


@pytest.mark.parametrize("answer", ["Stopcovid association", "Jeanne Dupont", "Mairie d'Annecy", "non"])
def test_ordinary_answers_are_not_cancellations(answer: str) -> None:
    assert not wants_to_cancel(answer)


# Bidi overrides and isolates reorder what the staff read ("\u202e" makes "fr.elliv@nimda"
# display as "admin@ville.rf"); zero-width characters hide text or split words.
INVISIBLE = ["\u202e", "\u202d", "\u202a", "\u2066", "\u2067", "\u2068", "\u2069", "\u200b",
             "\u200c", "\u200d", "\u200e", "\u200f", "\u2060", "\ufeff", "\u00ad"]


@pytest.mark.parametrize("invisible", INVISIBLE)
def test_invisible_format_characters_are_removed_from_every_field(invisible: str) -> None:
    assert check_name(f"Jeanne{invisible} Dupont").value == "Jeanne Dupont"
    assert check_organisation(f"Mairie {invisible}de Lille").value == "Mairie de Lille"
    question = f"Peut-on{invisible} candidater seuls{invisible} à un réseau ?"
    assert check_question(question).value == "Peut-on candidater seuls à un réseau ?"
    assert check_email(f"jeanne{invisible}@ville.fr").value == "jeanne@ville.fr"


def test_a_name_made_only_of_invisible_characters_is_refused() -> None:
    assert not check_name("\u202e\u200b\u200b\u2066").ok
