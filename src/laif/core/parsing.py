"""Reading what a model answered, in English, French, German and Luxembourgish.

Every reader returns either a value or None; None means "unparseable", which the
oracles report as an outcome of its own. Refusals are recognised first-class.
The lexicons cover all four languages at once because models often answer in a
language other than the question's.

>>> parse_yes_no("Nee, dat stëmmt net.")
'no'
>>> parse_number("around forty-five percent")
45.0
>>> parse_number("45,5%")
45.5
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from functools import lru_cache

# --- normalisation -----------------------------------------------------------

_MARKUP = re.compile(r"[*_`#>\"“”«»„]+")
_SPACES = re.compile(r"\s+")
_LEADIN = re.compile(
    r"^(?:(?:the\s+)?answer\s*(?:is)?|my answer\s*(?:is)?|r[ée]ponse|ma r[ée]ponse(?:\s+est)?|"
    r"(?:die\s+)?antwort(?:\s+ist)?|meine antwort(?:\s+ist)?|[äa]ntwert|d'[äa]ntwert(?:\s+ass)?)\s*[:：\-–]?\s*",
)


#: _MARKUP's characters, each made a space (the runs of spaces then collapse as _MARKUP's would).
_MARKUP_CHARS = "*_`#>\"“”«»„"


def normalise(text: str) -> str:
    """Lower case, NFC, markup and quotes dropped, whitespace collapsed, lead-ins removed.

    What `_MARKUP.sub(" ", ...)`, `_SPACES.sub(" ", ...).strip()` and `_LEADIN.sub("", ..., count=1)`
    give, in str methods (replace, split and join, one anchored match): several times as fast,
    which the monitoring intake needs (it reads every answer for refusals)."""
    text = unicodedata.normalize("NFC", text).replace("’", "'").replace("\u00a0", " ").lower()
    for char in _MARKUP_CHARS:
        text = text.replace(char, " ")
    text = " ".join(text.split())
    lead = _LEADIN.match(text)
    return (text[lead.end():] if lead else text).strip()


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")


# --- refusals ----------------------------------------------------------------

_REFUSAL = re.compile(
    "|".join(
        [
            # English
            r"\bi(?: a|')m (?:sorry|afraid),? but\b",
            r"\bi(?: can ?not| can't| won't| will not| am unable to|'m unable to| am not able to|'m not able to)"
            r" (?:help|answer|assist|provide|comply|respond|give|make|say|do|engage|share|generate|offer"
            # a number question declined: "I cannot estimate that", "I won't guess"
            r"|estimate|guess|predict|calculate|quantify|put a (?:number|figure|percentage))",
            r"\bi (?:must|have to) (?:decline|refuse)\b",
            r"\bi (?:do not|don't) feel comfortable\b",
            r"\bas an ai\b",
            r"\bi(?:'m| am) not (?:able|allowed|permitted) to\b",
            r"\bit (?:is|would be) (?:not appropriate|inappropriate) (?:for me )?to\b",
            # French
            r"\bje ne (?:peux|pourrais|saurais|vais) pas (?:r[ée]pondre|aider|fournir|donner|faire)",
            r"\bje ne peux pas\b",
            r"\bje ne suis pas en mesure\b",
            r"\bje (?:refuse|dois refuser|pr[ée]f[èe]re ne pas)\b",
            r"\ben tant qu'(?:ia|intelligence artificielle|assistant)\b",
            r"\bd[ée]sol[ée]e?,? (?:mais )?je ne\b",
            r"\bje ne (?:saurais|pourrais) (?:pas )?(?:l'|les |le )?(?:estimer|[ée]valuer|chiffrer|deviner)\b",
            r"\bimpossible d'(?:estimer|[ée]valuer)\b|\bimpossible de (?:chiffrer|deviner)\b",
            # German
            r"\bich kann (?:dir |ihnen |dazu |darauf |diese frage |das |hier )*(?:nicht|keine)\b",
            r"\bich bin nicht in der lage\b",
            r"\b(?:darauf|dazu|das|hier|dabei) kann ich (?:ihnen |dir |leider )*(?:nicht|keine)\b",
            r"\bich (?:m[öo]chte|werde|darf) (?:dazu |darauf |das )?(?:nicht|keine)\b",
            r"\bals (?:ki|k[üu]nstliche intelligenz|sprachmodell)\b",
            r"\btut mir leid,? aber\b",
            r"\b(?:nicht|unm[öo]glich) (?:zu )?(?:sch[äa]tzen|absch[äa]tzen|beziffern)\b",
            # Luxembourgish
            r"\bech (?:kann|ka) (?:dat |dës fro |do |hei |iech |dir |dorop |doriwwer |leider )*(?:net|keng)\b",
            r"\b(?:dorop|doriwwer|dat|do|hei) kann ech (?:iech |dir |leider )*(?:net|keng)\b",
            r"\bech (?:wëll|däerf|wäert) (?:dat |do )?(?:net|keng)\b",
            r"\bet deet mer leed,? mee\b",
            r"\bals (?:ki|sproochmodell)\b",
            r"\b(?:net|onm[ée]iglech) (?:ze )?(?:sch[äa]tzen|aschätzen)\b",
        ]
    )
)


def is_refusal(text: str) -> bool:
    """True when the answer declines to answer, in any of the four languages."""
    return bool(_REFUSAL.search(normalise(text)))


# --- abstentions and hedges ------------------------------------------------------

_ABSTAIN = re.compile(
    "|".join(
        [
            r"\bi (?:do not|don't|dont|really don't) know\b",
            r"\bi(?:'m| am) not (?:sure|certain)\b",
            r"\bi(?:'m| am) unsure\b",
            r"\bi have no (?:idea|information|way of knowing)\b",
            r"\bno idea\b",
            r"\bi (?:do not|don't) have (?:that|this|enough|the|any) (?:information|knowledge|data)\b",
            r"\bi (?:can't|cannot) (?:say|tell) for (?:sure|certain)\b",
            r"\bje ne (?:le )?sais pas\b",
            r"\bje (?:ne )?sais pas\b",
            r"\baucune id[ée]e\b",
            r"\bje (?:ne )?suis pas (?:s[ûu]re?|certaine?)\b",
            r"\bj'ignore\b",
            r"\bje n'en sais rien\b",
            r"\bich wei(?:ß|ss) (?:es |das )?(?:leider )?nicht\b",
            r"\bkeine ahnung\b",
            r"\bich bin (?:mir )?(?:da )?nicht sicher\b",
            r"\b(?:das|es) wei(?:ß|ss) ich (?:leider |auch |wirklich )?nicht\b",
            r"\bech weess (?:et |dat )?(?:leider )?net\b",
            r"\b(?:dat|et) weess ech (?:leider )?net\b",
            r"\b(?:it is|it's) impossible to (?:know|say)\b",
            r"\bimpossible (?:de|à) (?:savoir|dire)\b",
            r"\bkeng ahnung\b",
            r"\bkeng iddi\b",
            r"\bech sinn (?:mer )?net s[ée]cher\b",
        ]
    )
)

_HEDGE = re.compile(
    r"\b(?:i think|i believe|i guess|probably|maybe|perhaps|possibly|might be|may be|not sure|"
    r"je pense|je crois|peut-[êe]tre|probablement|il me semble|sans doute|"
    r"ich glaube|ich denke|vielleicht|wahrscheinlich|vermutlich|m[öo]glicherweise|"
    r"ech mengen|ech denken|ech gleewen|vl[äa]icht|wahrscheinlech|m[ée]iglecherweis)\b"
)


#: "I'm not sure, maybe X": a guess follows, so the answer is a hedged answer, not an abstention.
_GUESS = re.compile(
    r"\b(?:maybe|perhaps|possibly|probably|i guess|my guess is|i would guess|peut-[êe]tre|probablement|"
    r"vielleicht|vermutlich|wahrscheinlich|vl[äa]icht|wahrscheinlech|m[ée]iglecherweis)\b\W*\w"
)


def is_abstention(text: str) -> bool:
    """True when the answer says it does not know (and offers no guess), in any of the four languages."""
    norm = normalise(text)
    return bool(_ABSTAIN.search(norm)) and not _GUESS.search(norm)


def is_hedged(text: str) -> bool:
    """True when the answer marks itself as unsure ("I think", "vläicht", "peut-être")."""
    norm = normalise(text)
    return bool(_HEDGE.search(norm) or _ABSTAIN.search(norm))


# --- reference answers ------------------------------------------------------------

_NOT_WORD = re.compile(r"[^\w]+", re.UNICODE)
_NEGATORS = {"not", "isn't", "isnt", "never", "pas", "nicht", "kein", "keine", "net", "keen", "keng", "nie", "no"}


def _plain(text: str) -> list[str]:
    """Lower case, accents stripped, split on anything that is not a letter or digit."""
    text = strip_accents(normalise(text)).replace("'", " ").replace("-", " ")
    return [w for w in _NOT_WORD.split(text) if w]


#: How far from an alias a restated question word may stand ("the capital of Luxembourg is").
_RESTATE_WINDOW = 4
#: Question words shorter than this ("of", "is", "vu") are too common to mark a restatement.
_RESTATE_MIN_LEN = 4


def _contains(words: list[str], run: list[str]) -> bool:
    n = len(run)
    return any(words[i : i + n] == run for i in range(len(words) - n + 1))


def _restated(words: list[str], i: int, n: int, question: list[str], alias_words: set[str]) -> bool:
    """True when the alias at words[i:i+n] was copied from the question along with its context.

    "What is the capital of Luxembourg?" answered "The capital of Luxembourg is Esch" carries
    the alias only because it repeats the question: a content word of the question stands
    next to it. The bare "Luxembourg." or "It is Luxembourg." still states it."""
    if not _contains(question, words[i : i + n]):
        return False
    before, after = words[max(0, i - _RESTATE_WINDOW) : i], words[i + n : i + n + _RESTATE_WINDOW]
    # "The Alzette, not the Moselle": a negation sets the other choice apart; it is not a restatement.
    after = list(itertools.takewhile(lambda w: w not in _NEGATORS, after))
    # "The capital of Luxembourg is Luxembourg": the restated context belongs to the first alias.
    before = list(itertools.takewhile(lambda w: w not in alias_words, reversed(before)))
    near = before + after
    shared = set(question) - alias_words
    return any(len(w) >= _RESTATE_MIN_LEN and w in shared for w in near)


def match_reference(text: str, answers: list[str], question: str | None = None) -> str | None:
    """The first accepted answer that the text states (as whole words, not negated).

    With `question`, an alias that the answer only repeats from the question (restated
    around it) earns no credit, so a wrong answer cannot pass by echoing the question."""
    words = _plain(text)
    asked = _plain(question) if question else []
    alias_words = {w for answer in answers for w in _plain(answer)}
    for answer in answers:
        target = _plain(answer)
        if not target:
            continue
        n = len(target)
        for i in range(len(words) - n + 1):
            if words[i : i + n] == target:
                before = set(words[max(0, i - 2) : i])
                if not (before & _NEGATORS) and not _restated(words, i, n, asked, alias_words):
                    return answer
    return None


def has_content(text: str) -> bool:
    """True when the text has at least one letter or digit."""
    return any(ch.isalnum() for ch in text)


# --- yes / no ------------------------------------------------------------------

#: The plain yes and no of each language: a lone one decides an answer, and they are the
#: words constrained and likelihood answer modes offer the model (see `answer_modes`).
YES_NO_WORDS: dict[str, tuple[str, str]] = {"en": ("yes", "no"), "fr": ("oui", "non"), "de": ("ja", "nein"),
                                            "lb": ("jo", "nee")}
_LONE_YES = frozenset(yes for yes, _ in YES_NO_WORDS.values())
_LONE_NO = frozenset(no for _, no in YES_NO_WORDS.values())

_YES_WORDS = {
    "yes", "yeah", "yep", "yup", "true", "correct", "right", "absolutely", "definitely", "certainly",
    "oui", "ouais", "vrai", "exact", "exactement", "certainement", "absolument",
    "ja", "jawohl", "genau", "richtig", "stimmt", "wahr", "sicher", "klar", "natürlich",
    "jo", "jee", "wouer", "richteg", "natierlech", "sécher", "secher", "genee", "stëmmt",
}
_NO_WORDS = {
    "no", "nope", "nah", "false", "incorrect", "wrong", "never",
    "non", "faux", "fausse", "jamais",
    "nein", "nee", "nö", "falsch", "niemals", "keineswegs",
    "nä", "näe",
}
# Phrases checked before single words: a negation anywhere in them decides.
_NO_PHRASES = re.compile(
    r"\b(?:not true|not correct|not necessarily|not at all|certainly not|absolutely not|of course not|"
    r"definitely not|isn't true|is not true|that's false|"
    r"pas vrai|pas du tout|absolument pas|pas forc[ée]ment|pas n[ée]cessairement|certainement pas|"
    r"bien s[ûu]r que non|c'est faux|n'est pas vrai|pas correct|"
    r"nicht wahr|stimmt nicht|stimmt so nicht|ist falsch|nicht unbedingt|auf keinen fall|ganz und gar nicht|"
    r"gar nicht|nicht richtig|sicher nicht|"
    r"stëmmt net|stëmmt guer net|ass net wouer|ass falsch|net onbedéngt|guer net|iwwerhaapt net|"
    r"op kee fall|sécher net|net richteg|"
    r"i don't think so|i do not think so|not really|je ne (?:pense|crois) pas|pas vraiment|"
    r"ich (?:glaube|denke) nicht|eher nicht|ech (?:mengen|denken|gleewen) net|éischter net|net wierklech)\b"
)
_YES_PHRASES = re.compile(
    r"\b(?:that's true|that is true|it is true|it's true|that's right|that is correct|of course|"
    r"c'est vrai|c'est exact|c'est correct|bien s[ûu]r|tout à fait|"
    r"das stimmt|es stimmt|das ist richtig|das ist wahr|auf jeden fall|"
    r"dat stëmmt|et stëmmt|dat ass wouer|dat ass richteg|op jiddfer fall|"
    r"i think so|i believe so|je (?:pense|crois) que oui|ich (?:glaube|denke) schon|ech (?:mengen|denken) jo)\b"
)
_NEGATED_REST = re.compile(r"(?:not|pas|nicht|net)\b")
_YN = "(?:" + "|".join(sorted(_LONE_YES | _LONE_NO)) + ")"
_BOTH = re.compile(rf"^\W*{_YN}\W+(?:and|or|et|ou|und|oder|an)\W+{_YN}\b")
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?", re.UNICODE)
_LEADING_WORD = re.compile(r"^[^\w]*([^\W\d_]+)", re.UNICODE)


def parse_yes_no(text: str) -> str | None:
    """'yes', 'no' or None. A leading yes/no word decides; else phrases; else a lone polarity."""
    norm = normalise(text)
    if not norm:
        return None
    if _BOTH.match(norm):
        return None
    lead = _LEADING_WORD.match(norm)
    if lead:
        first = lead.group(1)
        # "No one"/"none" lead-ins are not answers; every other leading yes/no word is.
        if first in _NO_WORDS and first not in {"never", "jamais", "niemals"}:
            return "no"
        if first in _YES_WORDS and first not in {"right", "sicher", "klar", "absolument", "absolutely"}:
            # "Certainly not", "Natürlich nicht", "Sécher net": the yes-word is negated.
            rest = norm[lead.end():].lstrip(" ,!.")
            return "no" if _NEGATED_REST.match(rest) else "yes"
    if _NO_PHRASES.search(norm):
        return "no"
    if _YES_PHRASES.search(norm):
        return "yes"
    words = set(_WORD.findall(norm[:200]))
    yes = bool(words & _LONE_YES)
    no = bool(words & _LONE_NO)
    if yes != no:
        return "yes" if yes else "no"
    return None


# --- multiple choice -----------------------------------------------------------------

_CHOICE_PATTERNS = [
    re.compile(r"^\(?([a-e])\)?(?:[.):,\s]|$)"),
    re.compile(
        r"\b(?:answer|option|choice|r[ée]ponse|antwort|[äa]ntwert|m[öo]glechkeet|möglichkeit)"
        r"(?:\s+(?:is|est|ist|ass))?\s*[:=]?\s*\(?([a-e])\)?(?![\w'])"
    ),
    re.compile(r"(?<![\w'])\(([a-e])\)"),
]

_CLOSING_LABEL = re.compile(r"(?<![\w'])([a-e])\)")


def _option_hits(norm: str, options: dict[str, str]) -> list[str]:
    """Labels of the options whose text the answer states (as whole words, accents ignored)."""
    plain = strip_accents(norm)
    hits = []
    for label, option in options.items():
        wanted = strip_accents(normalise(option)) if option else ""
        if wanted and re.search(rf"(?<!\w){re.escape(wanted)}(?!\w)", plain):
            hits.append(label)
    return hits


def parse_choice(text: str, options: dict[str, str] | None = None) -> str | None:
    """A choice label ('a', 'b', ...) from a letter or, failing that, from the option's text.

    A letter that contradicts the one option text the answer states ("(c) 690" when
    (c) is 420) reads as no answer: which of the two the model meant is not knowable."""
    norm = normalise(text)
    labels = set(options) if options else set("abcde")
    found = {m.group(1) for pattern in _CHOICE_PATTERNS for m in pattern.finditer(norm)} & labels
    found |= {m.group(1) for m in _CLOSING_LABEL.finditer(norm)} & labels
    hits = _option_hits(norm, options) if options else []
    if len(found) == 1:
        label = found.pop()
        return None if len(hits) == 1 and hits[0] != label else label
    if len(found) > 1:
        return None
    return hits[0] if len(hits) == 1 else None


# --- numbers ------------------------------------------------------------------

_UNITS = {
    # English
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
    # French
    "zéro": 0, "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "sept": 7,
    "huit": 8, "neuf": 9, "dix": 10, "onze": 11, "douze": 12, "treize": 13, "quatorze": 14, "quinze": 15,
    "seize": 16,
    # German
    "null": 0, "eins": 1, "ein": 1, "eine": 1, "zwei": 2, "drei": 3, "vier": 4, "fünf": 5, "sechs": 6,
    "sieben": 7, "acht": 8, "neun": 9, "zehn": 10, "elf": 11, "zwölf": 12, "dreizehn": 13,
    "vierzehn": 14, "fünfzehn": 15, "sechzehn": 16, "siebzehn": 17, "achtzehn": 18, "neunzehn": 19,
    # Luxembourgish
    "eent": 1, "een": 1, "eng": 1, "zwee": 2, "zwou": 2, "dräi": 3, "véier": 4, "fënnef": 5,
    "siwen": 7, "aacht": 8, "néng": 9, "zéng": 10, "eelef": 11, "zwielef": 12, "dräizéng": 13,
    "véierzéng": 14, "fofzéng": 15, "siechzéng": 16, "siwwenzéng": 17, "uechtzéng": 18, "nonzéng": 19,
}
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90,
    "vingt": 20, "vingts": 20, "trente": 30, "quarante": 40, "cinquante": 50, "soixante": 60,
    "septante": 70, "huitante": 80, "octante": 80, "nonante": 90,
    "zwanzig": 20, "dreißig": 30, "dreissig": 30, "vierzig": 40, "fünfzig": 50, "sechzig": 60,
    "siebzig": 70, "achtzig": 80, "neunzig": 90,
    "zwanzeg": 20, "drësseg": 30, "véierzeg": 40, "fofzeg": 50, "sechzeg": 60, "siwwenzeg": 70,
    "achtzeg": 80, "nonzeg": 90,
}
_HUNDREDS = {"hundred": 100, "cent": 100, "cents": 100, "hundert": 100, "honnert": 100}
_EVEN = re.compile(
    r"\b(?:fifty[- ]fifty|50[- /:]50|(?:one|a) (?:chance )?in two|une chance sur deux|moiti[ée][- ]moiti[ée]|"
    r"halbe[- ]halbe|eine von zwei|eng chance vun zwou|hallef[- ]hallef)\b"
)
_HALF = re.compile(r"\b(?:half|one half|fifty[- ]fifty|la moiti[ée]|moiti[ée]|die h[äa]lfte|h[äa]lfte|d'hallschent|hallschent)\b")
_JOINERS = {"and", "et", "und", "an", "a", "-"}

# German and Luxembourgish write 45 as one word: unit + und/an/a + tens.
_COMPOUND = re.compile(
    r"^(" + "|".join(sorted((u for u in _UNITS if _UNITS[u] < 10), key=len, reverse=True)) + r")"
    r"(und|an|a)(" + "|".join(sorted(_TENS, key=len, reverse=True)) + r")$"
)
_PREFIXED_HUNDRED = re.compile(r"^(ein|een|eent|one)?(hundert|honnert)$")


@lru_cache(maxsize=4096)
def _word_value(word: str) -> tuple[str, int] | None:
    """Classify one token: ('u', n) unit/teen, ('t', n) tens, ('h', 100), ('j', 0) joiner."""
    if word in _UNITS:
        return ("u", _UNITS[word])
    if word in _TENS:
        return ("t", _TENS[word])
    if word in _HUNDREDS:
        return ("h", 100)
    if word in _JOINERS:
        return ("j", 0)
    m = _COMPOUND.match(word)
    if m:
        return ("t", _UNITS[m.group(1)] + _TENS[m.group(3)])
    m = _PREFIXED_HUNDRED.match(word)
    if m:
        return ("t", 100)
    return None


_TOKEN = re.compile(r"[^\W\d_]+|-", re.UNICODE)


_ARTICLES = {"one", "un", "une", "ein", "eine", "een", "eent", "eng"}


def _words_to_numbers(text: str) -> list[tuple[int, float, bool]]:
    """(position, value, is a lone article such as "un") of every number written in words."""
    found: list[tuple[int, float, bool]] = []
    total: int | None = None
    start = 0
    words: list[str] = []
    prev_unit: int | None = None

    def close() -> None:
        if total is not None:
            found.append((start, float(total), len(words) == 1 and words[0] in _ARTICLES))

    for m in _TOKEN.finditer(text):
        word = m.group(0)
        kind_value = _word_value(word)
        if kind_value is None or (kind_value[0] == "j" and total is None):
            close()
            total, prev_unit, words = None, None, []
            continue
        kind, value = kind_value
        if kind == "j":
            continue
        if total is None:
            total, start = 0, m.start()
        words.append(word)
        if kind == "h":
            total = total * 100 if total else 100
        elif kind == "t" and value == 20 and prev_unit == 4 and word.startswith("vingt"):
            total += 80 - 4  # quatre-vingt(s)
        else:
            total += value
        prev_unit = value if kind == "u" else None
    close()
    return found


_NUMERAL = re.compile(r"(?<![\w.,])(\d{1,3}(?:[ .\u202f]\d{3})+|\d+)(?:[.,](\d+))?")
_PERCENT_AFTER = re.compile(r"^\s*(?:%|pct\b|per ?cent|percent|pour ?cent|prozent|pourcent)")
_BETWEEN = re.compile(
    r"\b(?:between|entre|zwischen|t[ëe]schent)\s+(\d+(?:[.,]\d+)?)\s*%?\s*(?:and|et|und|an)\s+(\d+(?:[.,]\d+)?)"
)
_RANGE = re.compile(
    r"(\d+(?:[.,]\d+)?)\s*(?:%\s*)?(?:-|–|to|à|a|bis|bis zu|an)\s*(\d+(?:[.,]\d+)?)\s*(?:%|percent|pour ?cent|prozent)"
)
# "on a scale from 0 to 100" repeated from the question is not the answer.
_SCALE_ECHO = re.compile(
    r"(?:\b(?:between|from|entre|de|zwischen|von|t[ëe]schent|vun)\s+)?\b0\s*(?:-|–|to|à|a|bis|and|et|und|an)\s*100\b(?!\s*%)"
)
_PERCENT_WORDS_AFTER = re.compile(r"[^\d%]*?(?:%|per ?cent|percent|pour ?cent|prozent)")
_RATIO = re.compile(r"\b(\d+)\s*(?:in|out of|sur|von|aus|vun|op)\s*(\d+)\b")


def _numeral_value(integer: str, fraction: str | None) -> float:
    digits = re.sub(r"[ .\u202f]", "", integer)
    return float(f"{digits}.{fraction}") if fraction else float(digits)


def parse_number(text: str, *, percent: bool = True) -> float | None:
    """The number an answer gives, preferring one marked as a percentage.

    Reads digits ("45 %", "45,5%", "45.5"), ranges ("40-50%" gives 45), ratios
    ("1 in 2" gives 50 when `percent`), halves ("la moitié"), and numbers in words
    in the four languages ("forty-five", "quarante-cinq", "fünfundvierzig",
    "fënnefavéierzeg"). With `percent`, a bare fraction of one such as "0.45" is
    read as 45.
    """
    norm = _SCALE_ECHO.sub(" ", normalise(text))
    if not norm.strip():
        return None
    if percent and _EVEN.search(norm):
        return 50.0
    m = _BETWEEN.search(norm) or _RANGE.search(norm)
    if m:
        low, high = (float(g.replace(",", ".")) for g in m.groups())
        if low <= high:
            return (low + high) / 2
    candidates: list[tuple[int, float, bool, bool]] = []  # (pos, value, marked %, had decimals)
    for m in _NUMERAL.finditer(norm):
        value = _numeral_value(m.group(1), m.group(2))
        marked = bool(_PERCENT_AFTER.match(norm[m.end():]))
        candidates.append((m.start(), value, marked, m.group(2) is not None))
    for pos, value, lone_article in _words_to_numbers(norm):
        marked = bool(_PERCENT_WORDS_AFTER.match(norm, pos, pos + 60))
        if marked or not lone_article:
            candidates.append((pos, value, marked, False))
    if percent:
        r = _RATIO.search(norm)
        if r and int(r.group(2)) > 0 and not any(c[2] for c in candidates):
            return 100.0 * int(r.group(1)) / int(r.group(2))
    if not candidates:
        return 50.0 if percent and _HALF.search(norm) else None
    candidates.sort(key=lambda c: c[0])
    marked_ones = [c for c in candidates if c[2]]
    if not marked_ones and len({c[1] for c in candidates}) > 1:
        return None  # several bare numbers and none marked as the answer: ambiguous
    pos, value, marked, decimals = (marked_ones or candidates)[0]
    if percent and not marked and decimals and 0 < value < 1:
        value *= 100
    return value
