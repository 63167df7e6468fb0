"""Fixed vocabularies shared by the loader, the repositories and the actions.

These values describe the structure of the URBACT programme (network types, programme
generations) and ISO country codes; they are not edited by staff. Everything that staff
edit (networks, cities, themes, calls, contact points) lives in data/kb/*.csv.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NetworkType:
    code: str
    label: str  # singular, French
    plural: str  # "réseaux de transfert"
    synonyms: tuple[str, ...]


NETWORK_TYPES: dict[str, NetworkType] = {
    t.code: t
    for t in (
        NetworkType(
            "action_planning",
            "réseau de planification d'action",
            "réseaux de planification d'action",
            (
                "planification",
                "planification d'action",
                "planification d'actions",
                "plan d'action",
                "réseau de planification",
                "réseaux de planification",
                "conception",
                "conception de plans d'actions",
                "action planning",
                "action planning network",
                "APN",
            ),
        ),
        NetworkType(
            "transfer",
            "réseau de transfert",
            "réseaux de transfert",
            (
                "transfert",
                "transferts",
                "réseau de transfert",
                "réseaux de transfert",
                "transfert de bonnes pratiques",
                "bonne pratique",
                "transfer",
                "transfer network",
                "TN",
            ),
        ),
        NetworkType(
            "implementation",
            "réseau de mise en œuvre",
            "réseaux de mise en œuvre",
            (
                "mise en œuvre",
                "mise en oeuvre",
                "réseau de mise en œuvre",
                "implémentation",
                "implementation",
                "implementation network",
            ),
        ),
        NetworkType(
            "innovation_transfer",
            "réseau de transfert d'innovation",
            "réseaux de transfert d'innovation",
            (
                "transfert d'innovation",
                "transferts d'innovation",
                "réseau de transfert d'innovation",
                "innovation transfer",
                "innovation transfer network",
                "ITN",
            ),
        ),
        NetworkType(
            "thematic_urbact2",
            "réseau thématique URBACT II",
            "réseaux thématiques URBACT II",
            ("thématique", "réseau thématique", "réseaux thématiques", "thematic network"),
        ),
    )
}


@dataclass(frozen=True)
class Programme:
    name: str
    period: str
    synonyms: tuple[str, ...]


PROGRAMMES: dict[str, Programme] = {
    p.name: p
    for p in (
        Programme("URBACT I", "2002-2006", ("urbact 1", "urbact1", "urbact i")),
        Programme("URBACT II", "2007-2013", ("urbact 2", "urbact2", "urbact ii")),
        Programme("URBACT III", "2014-2020", ("urbact 3", "urbact3", "urbact iii")),
        Programme("URBACT IV", "2021-2027", ("urbact 4", "urbact4", "urbact iv")),
    )
}

CITY_KINDS: dict[str, str] = {
    "city": "ville",
    "district": "arrondissement ou secteur",
    "intermunicipality": "intercommunalité",
    "metropolis": "métropole",
    "department": "département",
    "county": "comté",
    "region": "région",
    "local_action_group": "groupe d'action locale",
    "agency": "agence locale",
    "national_agency": "agence nationale",
    "university": "université",
}

MEMBERSHIP_ROLES: tuple[str, ...] = ("lead", "partner")
CALL_KINDS: tuple[str, ...] = ("urbact", "other")


@dataclass(frozen=True)
class Country:
    code: str
    name: str  # French name
    synonyms: tuple[str, ...]  # adjectives, English / local names


def _c(code: str, name: str, *synonyms: str) -> Country:
    return Country(code, name, synonyms)


COUNTRIES: dict[str, Country] = {
    c.code: c
    for c in (
        _c("AL", "Albanie", "albanais", "albanaise", "albanaises", "Albania"),
        _c("AT", "Autriche", "autrichien", "autrichienne", "autrichiennes", "Austria"),
        _c("BA", "Bosnie-Herzégovine", "bosnien", "bosnienne", "bosniennes", "Bosnia"),
        _c("BE", "Belgique", "belge", "belges", "Belgium"),
        _c("BG", "Bulgarie", "bulgare", "bulgares", "Bulgaria"),
        _c("CH", "Suisse", "suisses", "Switzerland"),
        _c("CY", "Chypre", "chypriote", "chypriotes", "Cyprus"),
        _c("CZ", "Tchéquie", "République tchèque", "tchèque", "tchèques", "Czechia"),
        _c("DE", "Allemagne", "allemand", "allemande", "allemandes", "Germany"),
        _c("DK", "Danemark", "danois", "danoise", "danoises", "Denmark"),
        _c("EE", "Estonie", "estonien", "estonienne", "estoniennes", "Estonia"),
        _c("ES", "Espagne", "espagnol", "espagnole", "espagnoles", "Spain"),
        _c("FI", "Finlande", "finlandais", "finlandaise", "finlandaises", "Finland"),
        _c(
            "FR",
            "France",
            "français",
            "française",
            "françaises",
            "francais",
            "francaise",
            "hexagone",
            "french",
        ),
        _c("GB", "Royaume-Uni", "britannique", "britanniques", "UK", "United Kingdom"),
        _c("GR", "Grèce", "grec", "grecque", "grecques", "Greece", "EL"),
        _c("HR", "Croatie", "croate", "croates", "Croatia"),
        _c("HU", "Hongrie", "hongrois", "hongroise", "hongroises", "Hungary"),
        _c("IE", "Irlande", "irlandais", "irlandaise", "irlandaises", "Ireland"),
        _c("IT", "Italie", "italien", "italienne", "italiennes", "Italy"),
        _c("LT", "Lituanie", "lituanien", "lituanienne", "lituaniennes", "Lithuania"),
        _c("LU", "Luxembourg", "luxembourgeois", "luxembourgeoise", "luxembourgeoises"),
        _c("LV", "Lettonie", "letton", "lettone", "lettones", "Latvia"),
        _c("MD", "Moldavie", "moldave", "moldaves", "Moldova"),
        _c("ME", "Monténégro", "monténégrin", "monténégrine", "Montenegro"),
        _c("MK", "Macédoine du Nord", "macédonien", "macédonienne", "North Macedonia"),
        _c("MT", "Malte", "maltais", "maltaise", "maltaises", "Malta"),
        _c("NL", "Pays-Bas", "néerlandais", "néerlandaise", "néerlandaises", "Hollande"),
        _c("NO", "Norvège", "norvégien", "norvégienne", "norvégiennes", "Norway"),
        _c("PL", "Pologne", "polonais", "polonaise", "polonaises", "Poland"),
        _c("PT", "Portugal", "portugais", "portugaise", "portugaises"),
        _c("RO", "Roumanie", "roumain", "roumaine", "roumaines", "Romania"),
        _c("RS", "Serbie", "serbe", "serbes", "Serbia"),
        _c("SE", "Suède", "suédois", "suédoise", "suédoises", "Sweden"),
        _c("SI", "Slovénie", "slovène", "slovènes", "Slovenia"),
        _c("SK", "Slovaquie", "slovaque", "slovaques", "Slovakia"),
        _c("UA", "Ukraine", "ukrainien", "ukrainienne", "ukrainiennes"),
    )
}

# Default page size of every list answer (5 items then "et N autres").
PAGE_SIZE = 5
