"""Word lists that tell whether capitalised words are a person's name, and whose.

Titles and forms of address with the gender they show, self-introduction and relation
cues, capitalised words that are never names, words that make a name part of a place
("Václav Havel Airport", "náměstí Svobody"), verbs of speaking, and the Czech feminine
surname endings. English and Czech lists are merged: visitors mix the languages.
"""

from __future__ import annotations

import re
from typing import Final

from kiosk_agent.pii.names import fold

TITLES: Final[dict[str, str]] = {
    **dict.fromkeys(
        [
            "mr",
            "mister",
            "sir",
            "herr",
            "pan",
            "pana",
            "panu",
            "panem",
            "pane",
            "pán",
            "panovi",
        ],
        "m",
    ),
    **dict.fromkeys(
        [
            "ms",
            "mrs",
            "miss",
            "madam",
            "frau",
            "paní",
            "pani",
            "slečna",
            "slečny",
            "slečně",
            "slečnu",
            "slečnou",
            "slecna",
        ],
        "f",
    ),
    **dict.fromkeys(
        [
            "dr",
            "doctor",
            "prof",
            "professor",
            "ing",
            "mgr",
            "bc",
            "doktor",
            "doktora",
            "doktorem",
            "doktorovi",
            "inženýr",
            "inženýra",
            "inženýrem",
            "ředitel",
            "ředitele",
            "řediteli",
            "ředitelem",
            "director",
            "kolegy",
            "vedoucí",
            "vedoucího",
            "vedoucím",
        ],
        "",
    ),
    **dict.fromkeys(
        [
            "doktorka",
            "doktorku",
            "doktorkou",
            "doktorce",
            "ředitelka",
            "ředitelku",
            "ředitelkou",
            "ředitelce",
            "inženýrka",
            "inženýrku",
            "inženýrkou",
        ],
        "f",
    ),
}
"""Titles and forms of address (folded, without the dot) and the gender they show."""

CONTRACTIONS: Final = frozenset(
    "it's that's he's she's there's here's what's who's name's let's".split()
)
"""Words ending in 's that are no possessive: "Hello, it's Chen Jing" introduces."""

SELF_CUES: Final = (
    ("my", "name", "is"),
    ("name", "is"),
    ("jmeno", "je"),
    ("name's",),
    ("i'm",),
    ("i", "am"),
    ("call", "me"),
    ("jmenuji", "se"),
    ("jmenuju", "se"),
    ("jmenuje", "se"),
    ("jsem",),
    ("ja", "jsem"),
    ("rikaji", "mi"),
    ("mi", "rikaji"),
    ("it's",),
    ("says",),
    ("named",),
    ("jmenem",),
    ("na", "jmeno"),
)
"""Words before a name that is not the employee's even if it sounds the same."""

RELATION_CUES: Final = frozenset(
    fold(w)
    for w in """colleague colleagues brother sister wife husband son daughter
    mother father friend partner courier driver kolega kolegou kolegu kolegovi kolegyně
    kolegyní kolegyni bratr bratrem bratra sestra sestrou sestru manželka manželkou
    manžel manželem syn synem dcera dcerou kamarád kamarádem kamarádka kamarádkou
    řidič kurýr girlfriend boyfriend fiancé fiancée uncle aunt cousin nephew niece
    grandson granddaughter grandmother grandfather neighbour neighbor přítel přítelem
    přítelkyně přítelkyní strýc strýcem teta tetou bratranec bratrancem sestřenice
    sestřenicí vnuk vnukem vnučka vnučkou soused sousedem sousedka sousedkou tchán
    tchyně švagr švagrová dceru dcery synovi syna manžela manželku manželky sestry
    sestře bratrovi mámu maminku mamku tátu taťku babičku dědu dědečka vnuka vnučku
    kamaráda kamarádku mum mom dad mother's grandma grandpa""".split()
)
"""Words right before a name of someone the visitor brought or speaks of."""

OWN_RELATION_CUES: Final = frozenset(
    fold(w)
    for w in """manager boss supervisor director lawyer accountant assistant
    šéf šéfem šéfa šéfová šéfovou šéfové vedoucí vedoucím nadřízený nadřízeným
    právník právníkem účetní asistent asistentem asistentka asistentkou""".split()
)
"""Roles that make the next name someone else only after "my"/"můj" ("my manager
Tobiah Wright"); "the IT manager Pavel" may well be an employee."""

OWN: Final = frozenset(
    fold(w) for w in "my our můj moje mého mým mou naše náš našeho naším".split()
)

STOP: Final = frozenset(
    fold(w)
    for w in """
    monday tuesday wednesday thursday friday saturday sunday january february march
    april may june july august september october november december pondělí úterý
    středa čtvrtek pátek sobota neděle leden únor březen duben květen červen
    červenec srpen září říjen listopad prosinec czech english german polish slovak
    american british french italian spanish ukrainian russian indian chinese
    japanese austrian dutch hungarian i i'm i'll i've i'd meeting room office
    building floor street square airport station university hall team teams the a
    an and or hello hi hey good morning afternoon evening dobrý den ahoj thanks
    thank please sorry yes no ok okay dear god christmas vánoce easter wifi wi fi
    dobré ráno odpoledne večer prosím děkuji děkuju ano ne email mail emailová
    emailové emailovou mailová mailové mailovou sál aula síň
    """.split()
)
"""Capitalised words that are never part of a private person's name."""

PLACE_AFTER: Final = frozenset(
    fold(w)
    for w in """airport street st square avenue road bridge station park hall
    university college school institute hospital hotel centre center tower building
    stadium arena theatre theater museum gallery prize award foundation lane way drive
    boulevard gardens church cathedral castle palace library memorial monument
    company group inc ltd gmbh corp restaurant cafe bistro pub letiště náměstí ulice
    nábřeží nádraží most třída sady medical partners consulting logistics transport
    holding systems solutions technologies industries engineering services labs
    laboratories pharma optics electronics motors trading studio agency sro""".split()
)
DEMONYMS: Final = frozenset(
    fold(w)
    for w in """němec němcem čech čechem polák polákem slovák slovákem rus rusem
    maďar maďarem francouz francouzem vlach vlachem charvát charvátem šváb švábem
    uher uhrem rakušan rakušanem angličan angličanem ital italem""".split()
)
"""Czech nationality nouns, capitalised like names and common as surnames."""
COPULAS: Final = frozenset(
    fold(w) for w in "je jsem jsi jsme jste jsou byl byla byli bude jako".split()
)
"""Words after which a nationality noun says what someone is ("technik je Němec")."""
COMPANY_PARTNERS: Final = frozenset(
    "partners partner sons associates co spol synove syn".split()
)
"""Words after "and"/"a" that make the name before a firm ("Marsh and Partners")."""
PLACE_BEFORE: Final = frozenset(
    fold(w)
    for w in """náměstí nám ulice ulici ulicí nábřeží třída třídě letiště
    letišti nádraží most mostu sady park hotel hotelu restaurace kavárna kavárně room
    zasedačka zasedačce zasedačku zasedačky místnost místnosti budova budově budovy
    stanice zastávka metro kostel gymnázium škola univerzita nemocnice firma firmy
    firmě firmou společnost společnosti street sál sále sálu aula aule aulu síň síni
    muzeum muzeu muzea galerie galerii projekt projektu projektem project""".split()
)
PERSON_VERBS: Final = frozenset(
    fold(w)
    for w in """said says told asked called wants wrote sent expects expecting
    expected waiting invited booked needs knows mentioned promised arranged emailed
    texted phoned works left arrived pracuje odešel odešla přišel přišla
    říkal říkala řekl řekla volal volala psal psala poslal poslala chtěl
    chtěla čeká čekal čekala pozval pozvala objednal objednala potřebuje chce ví
    slíbil slíbila""".split()
)
"""Verbs after a sentence-initial ordinary-word surname that make it a person
("Black said ...", "Hunter is expecting me", "Mráz mi psal")."""

AUXILIARIES: Final = frozenset(
    fold(w)
    for w in """is was has had will would should just already also still je byl
    byla mi mě mne nám vám už taky prý dnes dneska today""".split()
)
"""Words allowed between a surname and its verb ("Hunter is expecting me")."""
ARTICLES: Final = frozenset({"the", "a", "an", "this", "that", "our", "my", "your"})
FEMININE_SURNAME: Final = re.compile(r"(?:ová|ové|ovou|ská|cká|ské|cké|skou|ckou)$")

SENTENCE_STARTERS: Final = frozenset(
    fold(w)
    for w in """
    yesterday today tomorrow tonight now then so also actually unfortunately maybe
    perhaps apparently well here there where when who whom whose why how what which
    is are was were can could would will shall should may might must do does did
    please call tell ask let give send meet find get show bring take see say check
    could only just even still if but because since after before while as with from
    for to at by about into over under sorry excuse dear welcome greetings hallo
    dnes včera zítra teď nyní potom pak tak takže také taky možná prý asi bohužel
    tady tam kde kdy kdo komu koho proč jak co který která které jestli ale a i nebo
    protože když než jen ještě už zavolejte řekněte pošlete najděte zeptejte
    vyřiďte dejte předejte sežeňte je jsou byl byla bude může můžete mohl mohla
    jsem jsi jste jsme má mají mám jdu jde šel šla přišel přišla hledám potřebuji
    potřebuju chci
    omlouvám pardon promiňte vážený vážená milý milá dobrý dobrá
    """.split()
)
"""Capitalised words that start sentences and are not first names: "Dnes Novák
nepřijde" and "Call Novák, please" mention the employee, "Zbyšek Novák, dobrý den"
introduces someone else."""

INTRODUCTION_AFTER: Final = frozenset(
    fold(w) for w in "here from speaking calling with z ze od".split()
)
"""Words after "First Surname" at the start of a sentence that show an introduction
("Ezekiel Dvořák here", "Zbyšek Král z Komerční banky")."""

GREETINGS: Final = frozenset(
    fold(w)
    for w in "hi hello hey morning afternoon evening den ahoj zdravím ráno".split()
)
"""Last word of a greeting that may open an introduction ("Hi, Thaddeus Pokorny")."""

VISIT_CUES: Final = tuple(
    tuple(fold(w) for w in cue.split())
    for cue in """to see|to visit|to meet|meeting with|appointment with|looking for
    |ask for|jdu za|přišel za|přišla za|přišel jsem za|přišla jsem za|schůzku s
    |schůzku se|hledám|sháním""".replace("\n", "").split("|")
)
"""Phrases right before the person a visitor came for ("I am here to see ...")."""

SPEAK_CUES: Final = tuple(
    tuple(fold(w) for w in cue.split())
    for cue in """ask for|asking for|speak to|speak with|talk to|talk with|mluvit s
    |mluvit se|zeptejte se na|ptejte se na""".replace("\n", "").split("|")
)
"""Phrases after which a capitalised word is a person, not a firm or a place ("ask
for Moreno"); "meeting with" is not one of them ("meeting with Deloitte")."""

FUNCTION_WORDS: Final = frozenset(
    fold(w)
    for w in """you him her them us me it someone somebody anyone everyone about how
    what whether if with for from into some any all this that these those there here
    again back later today tomorrow now whoever people vás vámi vám tebe tebou ním ní
    nimi něj ni ně někým někoho nikoho kvůli ohledně do na ve pro při mým mou svým
    svou naším vaším tím tou ten ta to tu toho tamtím tady tam dnes zítra""".split()
)
"""Pronouns, prepositions and adverbs after a visit cue: never part of a name."""
