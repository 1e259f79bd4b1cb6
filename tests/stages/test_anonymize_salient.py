"""Salient words a lobby hears that are no personal data survive pseudonymization.

Brands and retailers that are also names (Philips, Albert, Billa, Ford), rooms, streets,
museums and prizes named after famous people (the Marie Curie meeting room, Palackého
náměstí, Karlově mostě), products, and ordinary words equal to a surname (black coffee,
zima). Each sentence must come out unchanged, whatever directory the kiosk has: our own
test directory, the four held-out directories and, when present, the dev directory.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk_agent.config import AnonymizerConfig
from kiosk_agent.directory import load_directory
from kiosk_agent.messages import Employee
from kiosk_agent.pseudonyms import PseudonymTable
from kiosk_agent.stages.anonymize import Pseudonymizer
from tests.anonymizer_directory import DIRECTORY

DATA = Path(__file__).resolve().parents[1] / "data"
DEV_DIRECTORY = Path("/work/shared/data/anonymizer-dev/directory.json")


def _directories() -> dict[str, tuple[Employee, ...]]:
    found = {"own": tuple(DIRECTORY)}
    for folder in sorted(DATA.glob("anonymizer-heldout*")):
        found[folder.name] = tuple(load_directory(folder / "directory.json"))
    if DEV_DIRECTORY.exists():
        found["dev"] = tuple(load_directory(DEV_DIRECTORY))
    return found


PSEUDONYMIZERS = {
    name: Pseudonymizer(employees, AnonymizerConfig())
    for name, employees in _directories().items()
}

SALIENT = [
    pytest.param(
        "en", "We use Dell laptops and Philips monitors in room Ford.", id="brand-en"
    ),
    pytest.param(
        "en", "My car is a Ferrari, but today I came in the Porsche.", id="brand-en"
    ),
    pytest.param(
        "en",
        "I'm here to service the Siemens and Bosch machines in the kitchen.",
        id="brand-en",
    ),
    pytest.param("en", "Is that a Tesla charger in the car park?", id="brand-en"),
    pytest.param("en", "I bought a Philips kettle for the office.", id="brand-en"),
    pytest.param(
        "en", "The courier from Lidl dropped off the groceries.", id="brand-en"
    ),
    pytest.param("en", "Is there a Kaufland or an Albert nearby?", id="brand-en"),
    pytest.param("en", "I work for Hugo Boss in the Prague store.", id="brand-en"),
    pytest.param(
        "en", "My jacket is from Tommy Hilfiger and the shoes from Zara.", id="brand-en"
    ),
    pytest.param(
        "en", "Do you sell Ben & Jerry's ice cream in the canteen?", id="brand-en"
    ),
    pytest.param("en", "We drove here in a Ford Focus.", id="brand-en"),
    pytest.param("en", "The Dell technician is here for the laptops.", id="brand-en"),
    pytest.param("en", "Can I charge my iPhone somewhere?", id="brand-en"),
    pytest.param("en", "I came by Škoda Octavia, where can I park?", id="brand-en"),
    pytest.param(
        "en", "I'm from Siemens Healthineers, here for the demo.", id="brand-en"
    ),
    pytest.param("en", "The invite came through Microsoft Teams.", id="brand-en"),
    pytest.param("en", "We bought shoes at Baťa on Wenceslas Square.", id="brand-en"),
    pytest.param("en", "Is there a Billa near the station?", id="brand-en"),
    pytest.param(
        "en", "I have a Bosch drill in my bag, is that a problem?", id="brand-en"
    ),
    pytest.param("en", "Philips sent me to install the new screens.", id="brand-en"),
    pytest.param("en", "Tesla is sponsoring the event tonight.", id="brand-en"),
    pytest.param(
        "cs", "Je tu někde Billa nebo Albert? Potřebuju si koupit vodu.", id="brand-cs"
    ),
    pytest.param("cs", "Nakupuju v Lidlu nebo v Kauflandu.", id="brand-cs"),
    pytest.param("cs", "Jezdím Škodou Octavií, manželka jezdí Fordem.", id="brand-cs"),
    pytest.param("cs", "Přijel jsem z Philipsu kvůli servisu monitorů.", id="brand-cs"),
    pytest.param("cs", "Mám boty od Bati a bundu ze Zary.", id="brand-cs"),
    pytest.param(
        "cs", "Jsem z firmy Siemens, jdu na schůzku s nákupem.", id="brand-cs"
    ),
    pytest.param("cs", "Vezu zásilku z Alberta na Smíchově.", id="brand-cs"),
    pytest.param("cs", "Kde můžu nabít Teslu?", id="brand-cs"),
    pytest.param("cs", "Máte nabíječku na iPhone?", id="brand-cs"),
    pytest.param("cs", "Přinesl jsem vrtačku Bosch na opravu.", id="brand-cs"),
    pytest.param("cs", "Potkáme se v Albertu u metra.", id="brand-cs"),
    pytest.param("cs", "Dovezl jsem monitory Dell a Philips pro IT.", id="brand-cs"),
    pytest.param("cs", "Byl jsem v Kauflandu a pak v Billě.", id="brand-cs"),
    pytest.param("cs", "Servis Porsche mi zavolal, že je auto hotové.", id="brand-cs"),
    pytest.param("en", "Where is the Marie Curie meeting room?", id="place-en"),
    pytest.param("en", "The talk is in the Einstein auditorium.", id="place-en"),
    pytest.param("en", "She won the Nobel Prize for chemistry.", id="place-en"),
    pytest.param("en", "I'm parked on Husova street.", id="place-en"),
    pytest.param("en", "Is the Kafka museum far from here?", id="place-en"),
    pytest.param("en", "We walked over Charles Bridge this morning.", id="place-en"),
    pytest.param("en", "Meet me at Jan Palach Square.", id="place-en"),
    pytest.param(
        "en",
        "The workshop is in the Marie Curie room on the second floor.",
        id="place-en",
    ),
    pytest.param("en", "Is the Tesla conference room free?", id="place-en"),
    pytest.param("en", "I came from Masaryk station by tram.", id="place-en"),
    pytest.param("en", "The Ada Lovelace hall is on the left.", id="place-en"),
    pytest.param("en", "The training is in the Edison lecture room.", id="place-en"),
    pytest.param("en", "The Albert Einstein auditorium is upstairs.", id="place-en"),
    pytest.param("en", "We are in the Newton meeting room, right?", id="place-en"),
    pytest.param("en", "The Franz Kafka museum has a new exhibition.", id="place-en"),
    pytest.param("en", "Take the metro to Náměstí Míru station.", id="place-en"),
    pytest.param("cs", "Bydlím kousek od Husovy ulice.", id="place-cs"),
    pytest.param("cs", "Přijel jsem z Masarykova nádraží.", id="place-cs"),
    pytest.param("cs", "Sejdeme se na Palackého náměstí.", id="place-cs"),
    pytest.param("cs", "Parkuju na Smetanově nábřeží.", id="place-cs"),
    pytest.param("cs", "Jdu do zasedačky Marie Curie.", id="place-cs"),
    pytest.param("cs", "Kde je zasedačka Einstein?", id="place-cs"),
    pytest.param("cs", "Schůzka je v místnosti Tesla ve třetím patře.", id="place-cs"),
    pytest.param("cs", "Bylo to na Karlově mostě.", id="place-cs"),
    pytest.param("cs", "Přednáška je v aule Marie Curie-Skłodowské.", id="place-cs"),
    pytest.param("cs", "Jdu na náměstí Jana Palacha.", id="place-cs"),
    pytest.param("cs", "Šel jsem kolem Kafkova muzea.", id="place-cs"),
    pytest.param("cs", "Je to blízko stanice Anděl.", id="place-cs"),
    pytest.param("cs", "Dostala Nobelovu cenu za fyziku.", id="place-cs"),
    pytest.param("cs", "Sál Bedřicha Smetany je obsazený.", id="place-cs"),
    pytest.param("en", "Could I get a black coffee with a little milk?", id="word-en"),
    pytest.param("en", "The baker next door sells great bread.", id="word-en"),
    pytest.param("en", "I'd like a brown envelope for these papers.", id="word-en"),
    pytest.param("en", "Black coffee, no sugar, please.", id="word-en"),
    pytest.param("en", "Brown paper bags are in the kitchen.", id="word-en"),
    pytest.param("en", "I was born in winter but I hate snow.", id="word-en"),
    pytest.param("cs", "Venku je dneska velká zima.", id="word-cs"),
    pytest.param(
        "cs", "Byli jsme o víkendu na horách, hora byla krásná.", id="word-cs"
    ),
    pytest.param("cs", "Dám si černou kávu, prosím.", id="word-cs"),
    pytest.param("cs", "Mám jen malá zavazadla.", id="word-cs"),
    pytest.param("cs", "To byla veselá cesta.", id="word-cs"),
    pytest.param("cs", "Kovář opravil bránu u vjezdu.", id="word-cs"),
    pytest.param("cs", "Procházka parkem mi trvala deset minut.", id="word-cs"),
    pytest.param("cs", "Svoboda slova je důležitá.", id="word-cs"),
    pytest.param("cs", "Na střeše sedí holub.", id="word-cs"),
    pytest.param("cs", "Zima byla letos dlouhá.", id="word-cs"),
    pytest.param("cs", "Černá káva bez cukru, děkuji.", id="word-cs"),
]


@pytest.mark.parametrize("directory", sorted(PSEUDONYMIZERS))
@pytest.mark.parametrize(("lang", "text"), SALIENT)
def test_salient_non_personal_words_stay_unchanged(
    directory: str, lang: str, text: str
) -> None:
    redacted = PSEUDONYMIZERS[directory].redact(text, lang, PseudonymTable())
    assert redacted.text == text


@pytest.mark.parametrize(
    ("lang", "text", "kept_out"),
    [
        pytest.param("en", "Could you call Mr. Ford?", "Ford", id="title-brand-en"),
        pytest.param("en", "I'm Albert Ford from Siemens.", "Albert", id="self-en"),
        pytest.param("en", "Albert will come down at ten.", "Albert", id="subject-en"),
        pytest.param("en", "Hi, Albert here from Lidl.", "Albert", id="greeting-en"),
        pytest.param("en", "Albert Smith, good morning.", "Smith", id="surname-en"),
        pytest.param("cs", "Jdu za Albertem.", "Albert", id="visit-cs"),
        pytest.param("cs", "Můj bratr Albert čeká venku.", "Albert", id="relation-cs"),
        pytest.param("en", "Tell Jan room 5 is free.", "Jan", id="room-no-article-en"),
        pytest.param(
            "en", "Where is Pavel Novák's meeting room?", "Pavel", id="possessive-en"
        ),
    ],
)
def test_brand_or_room_word_used_as_a_name_is_still_replaced(
    lang: str, text: str, kept_out: str
) -> None:
    redacted = PSEUDONYMIZERS["own"].redact(text, lang, PseudonymTable())
    assert kept_out not in redacted.text
