"""Currency, scale and number-word vocabulary for the money parser: data only, no parsing.

Words (currency nouns and adjectives, scales, numerals) are listed in lower case in every form
the parser should accept, because ``money`` matches them on the lower-cased text. Signs and
prefixes are matched as written: their lower-case spelling is an ordinary word («Br» vs «br»,
«Ft» vs «ft», «ALL» the lek vs «all»). ``ROUBLE`` is not a code: it stands for a rouble whose
country the text does not say, resolved by the caller's rule.
"""

from __future__ import annotations

from typing import NamedTuple

ROUBLE = "ROUBLE"


class Unit(NamedTuple):
    """A sign or symbol for a currency, as a regex fragment."""

    pattern: str
    currency: str


def _split(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Active ISO 4217 codes plus the withdrawn ones that old news still quotes.
ISO_CODES = _split(
    """
    AED AFN AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP
    BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP
    GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES
    KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU
    MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON
    RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SYP SZL THB TJS TMT TND TOP
    TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XOF XPF YER ZAR ZMW ZWL
    BYR RUR DEM FRF ITL ESP PTE NLG BEF ATS FIM IEP GRD LTL LVL EEK SKK SIT CYP MTL
    """
)

# Codes that are also everyday upper-case words in headlines («ALL 5 solutions», «SOS»).
CODE_STOPLIST = frozenset({"ALL", "TOP", "CUP", "SOS", "BAM", "MOP", "PEN", "BOB", "MAD"})

# Codes common enough in news to accept in lower case too («10 rmb 20 usd», «140,00 pln»).
LOWERCASE_CODES = {
    "usd": "USD",
    "eur": "EUR",
    "rub": "RUB",
    "byn": "BYN",
    "byr": "BYR",
    "uah": "UAH",
    "kzt": "KZT",
    "pln": "PLN",
    "gbp": "GBP",
    "chf": "CHF",
    "cny": "CNY",
    "rmb": "CNY",
    "jpy": "JPY",
}

# Currencies without a minor unit in practice: «Rp 31.500», «1.727 Ft» are thousands, never
# three decimals.
ZERO_DECIMAL = frozenset(
    {"JPY", "KRW", "VND", "IDR", "HUF", "CLP", "ISK", "PYG", "UGX", "XAF", "XOF", "BYR", "IRR"}
)


_RU_ADJ = ("ий", "ого", "ому", "им", "ом", "их", "ими", "ие", "ая", "ой", "ую")
_BE_ADJ = ("і", "ага", "аму", "ім", "ых", "іх", "імі", "ія", "ая", "ай", "ую", "ы", "ым")
_UK_ADJ = ("ий", "ого", "ому", "им", "ім", "их", "ими", "і", "а", "ої", "у")
_DE_ADJ = ("", "e", "en", "er", "es", "em")
_RU_NOUN = ("", "а", "у", "ом", "е", "ы", "ов", "ам", "ами", "ах")
_UK_NOUN = ("", "а", "у", "ом", "і", "и", "ів", "ам", "ами", "ах")
_BE_NOUN = ("", "а", "у", "ам", "ы", "аў", "амі", "ах")


def _forms(stem: str, endings: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(stem + ending for ending in endings)


def _adjectives(country: str, *groups: tuple[str, ...]) -> dict[str, str]:
    return {form: country for group in groups for form in group}


# Adjectives that say whose currency a noun is («белорусских рублей», «kanadische Dollar»),
# mapped to a country; ``QUALIFIED`` turns (country, noun family) into the ISO code.
ADJECTIVES: dict[str, str] = {
    **_adjectives(
        "BY",
        _forms("белорусск", _RU_ADJ),
        _forms("беларуск", _BE_ADJ),
        _forms("білоруськ", _UK_ADJ),
        _forms("belarussisch", _DE_ADJ),
        _forms("weißrussisch", _DE_ADJ),
        _forms("weissrussisch", _DE_ADJ),
        ("belarusian", "belarussian", "byelorussian"),
    ),
    **_adjectives(
        "RU",
        _forms("российск", _RU_ADJ),
        _forms("расійск", _BE_ADJ),
        _forms("російськ", _UK_ADJ),
        _forms("russisch", _DE_ADJ),
        ("russian",),
    ),
    **_adjectives(
        "US",
        _forms("американск", _RU_ADJ),
        _forms("амерыканск", _BE_ADJ),
        _forms("американськ", _UK_ADJ),
        _forms("amerikanisch", _DE_ADJ),
        ("us", "u.s.", "american"),
    ),
    **_adjectives(
        "CA",
        _forms("канадск", _RU_ADJ + _BE_ADJ),
        _forms("канадськ", _UK_ADJ),
        _forms("kanadisch", _DE_ADJ),
        ("canadian",),
    ),
    **_adjectives(
        "AU",
        _forms("австралийск", _RU_ADJ),
        _forms("аўстралійск", _BE_ADJ),
        _forms("австралійськ", _UK_ADJ),
        _forms("australisch", _DE_ADJ),
        ("australian",),
    ),
    **_adjectives("HK", _forms("гонконгск", _RU_ADJ), ("hong kong", "hongkong")),
    **_adjectives("SG", _forms("сингапурск", _RU_ADJ), ("singapore", "singapur")),
    **_adjectives("NZ", _forms("новозеландск", _RU_ADJ), ("new zealand", "neuseeland")),
    **_adjectives(
        "CH",
        _forms("швейцарск", _RU_ADJ + _BE_ADJ),
        _forms("швейцарськ", _UK_ADJ),
        ("schweizer", "swiss"),
    ),
    **_adjectives(
        "TR",
        _forms("турецк", _RU_ADJ),
        _forms("турецьк", _UK_ADJ),
        _forms("türkisch", _DE_ADJ),
        ("turkish",),
    ),
    **_adjectives(
        "IN",
        _forms("индийск", _RU_ADJ),
        _forms("індійськ", _UK_ADJ),
        _forms("indisch", _DE_ADJ),
        ("indian",),
    ),
    **_adjectives(
        "CN",
        _forms("китайск", _RU_ADJ + _BE_ADJ),
        _forms("китайськ", _UK_ADJ),
        _forms("chinesisch", _DE_ADJ),
        ("chinese",),
    ),
    **_adjectives(
        "JP",
        _forms("японск", _RU_ADJ + _BE_ADJ),
        _forms("японськ", _UK_ADJ),
        _forms("japanisch", _DE_ADJ),
        ("japanese",),
    ),
    **_adjectives("GB", _forms("британск", _RU_ADJ), _forms("britisch", _DE_ADJ), ("british",)),
    **_adjectives("MX", _forms("mexikanisch", _DE_ADJ), ("mexican",)),
    **_adjectives("LB", _forms("libanesisch", _DE_ADJ), ("lebanese",)),
    **_adjectives("EG", _forms("ägyptisch", _DE_ADJ), ("egyptian",)),
    **_adjectives("KH", _forms("kambodschanisch", _DE_ADJ), ("cambodian",)),
    **_adjectives("FI", _forms("finnisch", _DE_ADJ), ("finnish",)),
    **_adjectives("NL", _forms("niederländisch", _DE_ADJ), ("dutch",)),
    **_adjectives("KW", ("kuwaiti",)),
    **_adjectives("QA", ("qatari",)),
    **_adjectives("SA", ("saudi",)),
}


class Noun(NamedTuple):
    """A currency noun: its family («dollar»), or an ISO code, and the scale it carries."""

    family: str
    scale: str = "1"


def _nouns(family: str, *groups: tuple[str, ...], scale: str = "1") -> dict[str, Noun]:
    return {form: Noun(family, scale) for group in groups for form in group}


def _with_usa(forms: tuple[str, ...]) -> tuple[str, ...]:
    return forms + tuple(f"{form} {usa}" for form in forms for usa in ("сша", "зша"))


# Currency nouns in every case form, matched on the lower-cased text after the number. A form
# with a space matches any run of whitespace there.
NOUNS: dict[str, Noun] = {
    **_nouns(
        "rouble",
        ("рубль", "рубля", "рублю", "рублём", "рублем", "рубле", "рубли", "рублей", "рублям"),
        ("рублями", "рублях", "рубель", "рублі", "рублёў", "рублямі", "рублів"),
        ("rubel", "rubeln", "rubels", "rouble", "roubles", "ruble", "rubles"),
        ("руб", "руб.", "р."),
    ),
    **_nouns("rouble", ("т. р.", "т.р."), scale="1000"),
    **_nouns(
        "rouble",
        ("копеек", "копейки", "копейка", "копейку", "коп.", "коп", "капеек", "капейкі"),
        ("капейка",),
        scale="0.01",
    ),
    **_nouns(
        "dollar",
        _with_usa(_forms("доллар", _RU_NOUN)),
        _with_usa(_forms("долар", _UK_NOUN)),
        _with_usa(_forms("даляр", _BE_NOUN)),
        _with_usa(("долл.", "долл", "дол.")),
        ("dollar", "dollars"),
    ),
    **_nouns("euro", ("евро", "еўра", "євро", "euro", "euros")),
    **_nouns(
        "pound",
        _forms("фунт", (*_RU_NOUN, "ів", "аў")),
        tuple(f"фунт{end} стерлингов" for end in _RU_NOUN),
        tuple(f"фунт{end} стерлінгів" for end in _UK_NOUN),
        tuple(f"фунт{end} стэрлінгаў" for end in _BE_NOUN),
        ("pfund", "pfund sterling", "pound", "pounds", "pound sterling", "pounds sterling"),
    ),
    **_nouns("EGP", ("egyptianpound", "egyptianpounds")),
    **_nouns("franc", _forms("франк", (*_RU_NOUN, "ів", "аў")), ("franken", "franc", "francs")),
    **_nouns(
        "yen",
        ("иена", "иены", "иену", "иеной", "иен", "йена", "йены", "йену", "йеной", "йен"),
        ("єна", "єни", "єну", "єн", "ена", "ены", "енаў", "yen"),
    ),
    **_nouns(
        "yuan",
        ("юань", "юаня", "юаню", "юанем", "юане", "юани", "юаней", "юаням", "юанями", "юанях"),
        ("юанів", "юані", "юаняў", "yuan", "renminbi", "kuai"),
    ),
    **_nouns(
        "hryvnia",
        ("гривна", "гривны", "гривне", "гривну", "гривной", "гривнами", "гривнах", "гривнам"),
        ("гривен", "гривня", "гривні", "гривню", "гривнею", "гривням", "гривнями", "гривнях"),
        ("гривень", "грыўня", "грыўні", "грыўню", "грыўняў", "грыўнаў", "грыўна", "грыўны"),
        ("грн", "грн.", "hryvnia", "hryvnias", "hryvna", "hryvnas", "hrywnja", "hrywnjas"),
        ("griwna", "griwnas"),
    ),
    **_nouns("hryvnia", ("копійок", "копійки", "копійка"), scale="0.01"),
    **_nouns("tenge", ("тенге", "теңге", "tenge")),
    **_nouns(
        "zloty",
        ("злотый", "злотого", "злотому", "злотым", "злотом", "злотые", "злотых", "злотыми"),
        ("злотий", "злотих", "злоті", "злоты", "злотага"),
        ("zloty", "zlotys", "zlotych", "złoty", "złotys", "złotych", "zł"),
    ),
    **_nouns(
        "lira",
        ("лира", "лиры", "лиру", "лирой", "лир", "лирам", "лирами", "ліра", "ліри", "лір"),
        ("lira", "liras", "lire"),
    ),
    **_nouns(
        "rupee",
        ("рупия", "рупии", "рупий", "рупиям", "рупія", "рупії", "рупій"),
        ("rupee", "rupees", "rupie", "rupien"),
    ),
    **_nouns("lari", ("лари", "ларі", "lari")),
    **_nouns("shekel", ("шекель", "шекеля", "шекелей", "шекелів", "shekel", "shekels", "schekel")),
    **_nouns("dinar", _forms("динар", _RU_NOUN), ("dinar", "dinars")),
    **_nouns("riyal", ("riyal", "riyals", "rial", "rials")),
    **_nouns("SAR", ("saudiriyal", "saudiriyals")),
    **_nouns("riel", ("riel",)),
    **_nouns("markka", ("markka", "mark")),
    **_nouns("guilder", ("guilder", "guilders", "gulden")),
    **_nouns("peseta", ("peseta", "pesetas")),
    **_nouns("peso", ("peso", "pesos")),
    **_nouns("tugrik", ("tugrik", "tugriks")),
    **_nouns("lev", ("лв", "лв.", "лев", "лева")),
    **{code: Noun(iso) for code, iso in LOWERCASE_CODES.items()},
}

# What a noun means with no adjective; a family missing here («pesos», «dinars») needs one.
FAMILY_DEFAULT: dict[str, str] = {
    "rouble": ROUBLE,
    "dollar": "USD",
    "euro": "EUR",
    "pound": "GBP",
    "franc": "CHF",
    "yen": "JPY",
    "yuan": "CNY",
    "hryvnia": "UAH",
    "tenge": "KZT",
    "zloty": "PLN",
    "lira": "TRY",
    "rupee": "INR",
    "lari": "GEL",
    "shekel": "ILS",
    "peseta": "ESP",
    "tugrik": "MNT",
    "lev": "BGN",
}
QUALIFIED: dict[tuple[str, str], str] = {
    ("BY", "rouble"): "BYN",
    ("RU", "rouble"): "RUB",
    ("US", "dollar"): "USD",
    ("CA", "dollar"): "CAD",
    ("AU", "dollar"): "AUD",
    ("HK", "dollar"): "HKD",
    ("SG", "dollar"): "SGD",
    ("NZ", "dollar"): "NZD",
    ("CH", "franc"): "CHF",
    ("TR", "lira"): "TRY",
    ("IN", "rupee"): "INR",
    ("CN", "yuan"): "CNY",
    ("JP", "yen"): "JPY",
    ("GB", "pound"): "GBP",
    ("LB", "pound"): "LBP",
    ("EG", "pound"): "EGP",
    ("MX", "peso"): "MXN",
    ("KW", "dinar"): "KWD",
    ("QA", "riyal"): "QAR",
    ("SA", "riyal"): "SAR",
    ("KH", "riel"): "KHR",
    ("FI", "markka"): "FIM",
    ("NL", "guilder"): "NLG",
}

# Letter signs whose case tells them from ordinary words («Br» vs «br», «Ft» vs «ft»).
SIGNS: tuple[Unit, ...] = (
    Unit(r"Br", "BYN"),
    Unit(r"Р", ROUBLE),
    Unit(r"Kč", "CZK"),
    Unit(r"Ft", "HUF"),
    Unit(r"lei|LEI|Lei", "RON"),
    Unit(r"TL", "TRY"),
    Unit(r"Rp", "IDR"),
    Unit(r"RM", "MYR"),
    Unit(r"Rs\.|Rs", "INR"),
    Unit(r"KD", "KWD"),
    Unit(r"Fr\.", "CHF"),
)

# Symbols: no case and no word boundary («184,20 €HT»).
SYMBOLS: tuple[Unit, ...] = (
    Unit(r"NT\$", "TWD"),
    Unit(r"R\$", "BRL"),
    Unit(r"US\$", "USD"),
    Unit(r"\$", "USD"),
    Unit(r"€", "EUR"),
    Unit(r"[£₤]", "GBP"),
    Unit(r"¥|円", "JPY"),
    Unit(r"元", "CNY"),
    Unit(r"₽", "RUB"),
    Unit(r"₴", "UAH"),
    Unit(r"₸", "KZT"),
    Unit(r"₹", "INR"),
    Unit(r"₪", "ILS"),
    Unit(r"₺", "TRY"),
    Unit(r"₩|원", "KRW"),
    Unit(r"₫", "VND"),
    Unit(r"₼", "AZN"),
    Unit(r"֏", "AMD"),
    Unit(r"₾", "GEL"),
    Unit(r"₡", "CRC"),
    Unit(r"₭", "LAK"),
    Unit(r"ரூ", "LKR"),
)

# Written before the number, looked up as written (case matters: «Br» is not «br»).
PREFIX_SYMBOLS: dict[str, str] = {
    "$": "USD",
    "€": "EUR",
    "£": "GBP",
    "₤": "GBP",
    "¥": "JPY",
    "₽": "RUB",
    "₴": "UAH",
    "₸": "KZT",
    "₹": "INR",
    "₪": "ILS",
    "₺": "TRY",
    "₩": "KRW",
    "₫": "VND",
}
# Letter signs and scaled codes before a number («Br390 млрд», «Rs. 20», «MUSD 30»); plain
# ISO codes («USD 200», «CHF 1'049,95») are recognised without a table.
PREFIX_WORDS: dict[str, tuple[str, int]] = {
    "Br": ("BYN", 1),
    "Rs": ("INR", 1),
    "Rs.": ("INR", 1),
    "Rp": ("IDR", 1),
    "Rp.": ("IDR", 1),
    "RM": ("MYR", 1),
    "MUSD": ("USD", 10**6),
    "MEUR": ("EUR", 10**6),
    "MGBP": ("GBP", 10**6),
    "MAUD": ("AUD", 10**6),
    "MCHF": ("CHF", 10**6),
}
# Letters glued to a «$» («US$», «C$», «HK$», «R$»). A single letter counts only when glued, so
# «A $5 fee» stays US dollars; «US $ 150», «NZD $100.70» and «c $ 16.4» (the peers' tokenised
# style) may have a space.
DOLLAR_PREFIXES: dict[str, str] = {
    **dict.fromkeys(("US", "U.S.", "U.S", "us", "u.s.", "u.s", "USD", "usd"), "USD"),
    **dict.fromkeys(("A", "AU", "AUD", "aud"), "AUD"),
    **dict.fromkeys(("C", "c", "CA", "CAD", "cad"), "CAD"),
    **dict.fromkeys(("HK", "hk", "HKD", "hkd"), "HKD"),
    **dict.fromkeys(("NZ", "NZD", "nzd"), "NZD"),
    **dict.fromkeys(("S", "SG", "SGD", "sgd"), "SGD"),
    **dict.fromkeys(("NT", "TWD"), "TWD"),
    **dict.fromkeys(("MX", "Mex", "MXN", "mex", "mxn"), "MXN"),
    "R": "BRL",
}
SPACED_DOLLAR_PREFIXES = frozenset(word for word in DOLLAR_PREFIXES if len(word) > 1) | {"c"}
# German articles that mean «one» before a currency («einen Euro»); elsewhere they are just
# articles, and checking each for a currency would cost more than the rest of the parse.
ARTICLE_NOUNS = ("euro", "dollar", "us-dollar", "pfund", "franken", "rubel", "yen", "yuan")
ARTICLES = frozenset({"a", "an", "ein", "eine", "einen", "einem", "einer"})

# Scales: the key is the lower-cased word without its final dot. Only abbreviations take a dot:
# in «$52 billion.» the dot ends the sentence.
SCALE_ABBREVIATIONS = frozenset(
    {"тыс", "тис", "млн", "млрд", "трлн", "mio", "mrd", "tsd", "bio", "mln", "bln", "mn", "bn"}
    | {"tn", "trn"}
)
_RU_THOUSAND = ("тыс", "тысяча", "тысячи", "тысяч", "тысячу", "тысячей", "тысячами", "тысячах")
_UK_THOUSAND = ("тис", "тисяча", "тисячі", "тисяч", "тисячу", "тисячами", "тисячах")
_BE_THOUSAND = ("тысячы", "тысячай", "тысячамі")
SCALES: dict[str, int] = {
    **dict.fromkeys(_RU_THOUSAND + _UK_THOUSAND + _BE_THOUSAND, 10**3),
    **dict.fromkeys(("млн", "mln", "mn", "mio"), 10**6),
    **dict.fromkeys(("млрд", "bn", "bln", "mrd"), 10**9),
    **dict.fromkeys(("трлн", "tn", "trn"), 10**12),
    **dict.fromkeys(_forms("миллион", _RU_NOUN) + _forms("мільйон", _UK_NOUN), 10**6),
    **dict.fromkeys(_forms("мільён", _BE_NOUN), 10**6),
    **dict.fromkeys(_forms("миллиард", _RU_NOUN) + _forms("мільярд", _UK_NOUN), 10**9),
    **dict.fromkeys(_forms("мільярд", _BE_NOUN), 10**9),
    **dict.fromkeys(_forms("триллион", _RU_NOUN) + _forms("трильйон", _UK_NOUN), 10**12),
    **dict.fromkeys(_forms("трыльён", _BE_NOUN), 10**12),
    **dict.fromkeys(("tsd", "tausend", "thousand", "thousands"), 10**3),
    **dict.fromkeys(("million", "millionen", "millions"), 10**6),
    **dict.fromkeys(("milliarde", "milliarden"), 10**9),
    **dict.fromkeys(("billion", "billions"), 10**9),
    **dict.fromkeys(("trillion", "trillions"), 10**12),
    **dict.fromkeys(("billiarde", "billiarden"), 10**15),
    **dict.fromkeys(("lakh", "lakhs"), 10**5),
    **dict.fromkeys(("crore", "crores"), 10**7),
}
# A scale word alone is an amount only in the singular, and only in the East Slavic languages:
# «миллиард долларов» is 10^9 dollars; «миллиарды долларов» is no amount, and English and German
# say «a billion», «eine Milliarde».
SINGULAR_SCALES = frozenset(
    {
        *("тысяча", "тысячу", "тисяча", "тисячу"),
        *("миллион", "миллиона", "миллиард", "миллиарда", "триллион", "триллиона"),
        *("мільйон", "мільйона", "мільярд", "мільярда", "трильйон", "трильйона"),
        *("мільён", "мільёна", "мільярда", "трыльён", "трыльёна"),
    }
)
# German «Billion» is the long-scale 10^12 (and «Bio.» its abbreviation).
GERMAN_SCALES: dict[str, int] = {"billion": 10**12, "billionen": 10**12, "bio": 10**12}
# Scales glued to the digits («$2.5bn», «€10M», «10к$»); «T» is Tausend in German price tags
# and trillion in English figures.
ATTACHED_SCALES: dict[str, int] = {
    "k": 10**3,
    "K": 10**3,
    "к": 10**3,
    "К": 10**3,
    "m": 10**6,
    "M": 10**6,
    "mn": 10**6,
    "bn": 10**9,
    "b": 10**9,
    "B": 10**9,
    "tn": 10**12,
}


def _numerals(table: str) -> dict[str, str]:
    """Numerals from lines of «form form ... value»."""
    words: dict[str, str] = {}
    for line in table.strip().splitlines():
        *forms, value = line.split()
        words.update(dict.fromkeys(forms, value))
    return words


# Number words, for amounts written out («два миллиарда долларов», «ten dollars»). A value
# «x100» multiplies what came before («two hundred»).
NUMBER_WORDS: dict[str, str] = _numerals(
    """
    один одна одно одного одной одну одним адзін адна един 1
    два две двух двум дві двох дзве 2
    три трёх трех трем трьох тры 3
    четыре четырёх четырех чотири чатыры 4
    пять пяти п'ять п’ять пяць 5
    шесть шести шість шэсць 6
    семь семи сім сем 7
    восемь восьми вісім восем 8
    девять девяти дев'ять дев’ять дзевяць 9
    десять десяти дзесяць десет 10
    одиннадцать 11
    двенадцать 12
    тринадцать 13
    четырнадцать 14
    пятнадцать петнадесет 15
    шестнадцать 16
    семнадцать 17
    восемнадцать 18
    девятнадцать 19
    двадцать двадцати двадцять дваццаць двадесет 20
    тридцать тридцати тридцять трыццаць 30
    сорок сорока сорак 40
    пятьдесят п'ятдесят п’ятдесят пяцьдзясят 50
    шестьдесят 60
    семьдесят 70
    восемьдесят 80
    девяносто 90
    сто ста 100
    двести двісті дзвесце 200
    триста трыста 300
    четыреста 400
    пятьсот п'ятсот п’ятсот пяцьсот 500
    шестьсот 600
    семьсот 700
    восемьсот 800
    девятьсот 900
    полтора полторы полутора півтора півтори паўтара паўтары 1.5
    a an one 1
    two 2
    three 3
    four 4
    five 5
    six 6
    seven 7
    eight 8
    nine 9
    ten 10
    eleven 11
    twelve 12
    thirteen 13
    fourteen 14
    fifteen 15
    sixteen 16
    seventeen 17
    eighteen 18
    nineteen 19
    twenty 20
    thirty 30
    forty 40
    fifty 50
    sixty 60
    seventy 70
    eighty 80
    ninety 90
    hundred x100
    half 0.5
    quarter 0.25
    ein eine einen einem einer 1
    """
)
# German numerals 1-999 are one word each («achtundsiebzig», «dreihundertfünfzig»), generated:
_DE_UNITS = ("", "eins", "zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht", "neun")
_DE_TEENS = (
    *("zehn", "elf", "zwölf", "dreizehn", "vierzehn"),
    *("fünfzehn", "sechzehn", "siebzehn", "achtzehn", "neunzehn"),
)
_DE_TENS = (
    *("", "", "zwanzig", "dreißig", "vierzig"),
    *("fünfzig", "sechzig", "siebzig", "achtzig", "neunzig"),
)


def _german_below_hundred(number: int) -> str:
    tens, units = divmod(number, 10)
    if tens == 0:
        return _DE_UNITS[units]
    if tens == 1:
        return _DE_TEENS[units]
    if units == 0:
        return _DE_TENS[tens]
    # «einundzwanzig», not «einsundzwanzig».
    return _DE_UNITS[units].removesuffix("s") + "und" + _DE_TENS[tens]


def _german_numerals() -> dict[str, str]:
    """German numerals are written as one word («achtundsiebzig», «dreihundertfünfzig»)."""
    words: dict[str, str] = {}
    for number in range(1, 1000):
        hundreds, rest = divmod(number, 100)
        tail = _german_below_hundred(rest)
        if hundreds == 0:
            words[tail] = str(number)
            continue
        head = _DE_UNITS[hundreds].removesuffix("s") + "hundert"
        words[head + tail] = str(number)
        if hundreds == 1:
            words["hundert" + tail] = str(number)
    return words


NUMBER_WORDS.update(_german_numerals())

# Singular nominative currency nouns: in Russian only a number ending in 1 (not 11) takes them,
# so «в 2024 рубль подешевел» is a year and a rouble, not 2024 roubles.
SINGULAR_NOMINATIVE = frozenset(
    {"рубль", "доллар", "юань", "злотый", "гривна", "долар", "гривня", "злотий"}
)
