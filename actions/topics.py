"""Short French labels for every intent of the assistant.

Used to build suggestion buttons (payload "/<intent>") when the assistant did not
understand a message. Keep one entry per intent of the catalogue in .drafts/COMMON.md,
including the intents owned by the other parts (brochure, database, hand-off):
tests/unit/actions/test_fallback.py fails when an intent has no label.
"""

from __future__ import annotations

from typing import Dict, Final, FrozenSet

TOPIC_LABELS: Final[Dict[str, str]] = {
    # brochure
    "ask_what_is_urbact": "Qu'est-ce qu'URBACT ?",
    "ask_funding_programme": "Financement du programme",
    "ask_countries": "Pays participants",
    "ask_governance": "Gouvernance du programme",
    "ask_history": "Histoire d'URBACT",
    "ask_network_types": "Types de réseaux",
    "ask_network_duration": "Durée d'un réseau",
    "ask_how_to_join": "Comment rejoindre un réseau",
    "ask_benefits": "Apports pour votre ville",
    "benefit_local_strategy": "Répondre à un enjeu local",
    "benefit_existing_projects": "Renforcer vos projets existants",
    "benefit_good_practices": "Bonnes pratiques européennes",
    "benefit_expertise": "Appui des experts URBACT",
    "ask_action_plan": "Plan d'actions intégré",
    "skills_cross_department": "Travail entre services",
    "skills_local_actors": "Compétences des acteurs locaux",
    "skills_promote_territory": "Valoriser votre territoire",
    "ulg_what": "Groupe de soutien local",
    "ulg_mobilise": "Mobiliser les acteurs locaux",
    "ulg_keep_alive": "Faire vivre le groupe local",
    "ulg_elected_officials": "Associer les élus",
    "ask_field_example": "Exemples de villes",
    "ask_vigilance_points": "Points de vigilance",
    # conversation, myths and quiz
    "greet": "Bonjour",
    "goodbye": "Au revoir",
    "thank": "Merci",
    "bot_challenge": "Qui êtes-vous ?",
    "help": "Ce que je sais faire",
    "out_of_scope": "Autre sujet",
    "affirm": "Oui",
    "deny": "Non",
    "answer_not_helpful": "Ce n'était pas ma question",
    "myth_contacts": "Faut-il déjà des contacts ?",
    "myth_no_idea": "Sans idée de coopération ?",
    "myth_english": "Faut-il parler anglais ?",
    "myth_time": "Le temps à y consacrer",
    "myth_complexity": "Un programme complexe ?",
    "myth_useless_exchange": "À quoi sert d'échanger ?",
    "quiz_start": "Quiz « Info ou intox ? »",
    "quiz_answer_info": "Répondre « Info »",
    "quiz_answer_intox": "Répondre « Intox »",
    "quiz_stop": "Arrêter le quiz",
    # database
    "search_networks": "Chercher un réseau",
    "ask_network_details": "Détails d'un réseau",
    "ask_network_lead": "Chef de file d'un réseau",
    "ask_network_partners": "Partenaires d'un réseau",
    "ask_city_networks": "Réseaux d'une ville",
    "inform": "Préciser ma demande",
    "ask_open_calls": "Appels ouverts",
    "ask_last_call": "Dernier appel à projets",
    "ask_implementation_funding": "Financer votre plan d'actions",
    "ask_contact_point": "Point de contact national",
    # hand-off
    "request_handoff": "Transmettre ma question",
    # contact-point staff (Slack only)
    "staff_list_handoffs": "Demandes en attente",
    "staff_mark_handled": "Marquer une demande traitée",
    # a visitor's thumb under an answer (website widget)
    "feedback": "Avis sur une réponse",
}

# Intents never offered as "did you mean" suggestions: they are not topics.
NEVER_SUGGESTED: Final[FrozenSet[str]] = frozenset(
    {
        "nlu_fallback", "out_of_scope", "greet", "goodbye", "thank", "affirm", "deny",
        "answer_not_helpful",
        "staff_list_handoffs", "staff_mark_handled", "feedback",
    }
)

# Intents only worth suggesting while the quiz is running.
QUIZ_ONLY: Final[FrozenSet[str]] = frozenset(
    {"quiz_answer_info", "quiz_answer_intox", "quiz_stop"}
)


def label_for(intent: str) -> str:
    """French label of an intent; falls back to a readable form of its name."""
    return TOPIC_LABELS.get(intent, intent.replace("_", " "))
