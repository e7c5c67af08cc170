"""Names written in other scripts, brought to what ``projections.names`` compares.

People here write their names in Arabic script (Sudan, Syria, Iraq), in Sorani Kurdish
(Arabic script with written vowels), in Turkish and Kurmanji Latin letters, in Cyrillic
(Russian passports) and in Ge'ez (Eritrea, Ethiopia). Clerks transliterate each in their
own way. Two rules hold here:

- **Nothing is dropped.** A letter outside ASCII is transliterated (``anyascii``, ISC
  licence) unless a rule below says better; a name never normalises to nothing because of
  its script.
- **Arabic script stays Arabic script** in the normal form, after the spellings that mean
  the same thing are unified (harakat and tatweel stripped; alef forms, hamza carriers,
  teh marbuta and alef maqsura unified; Persian and Kurdish letter forms folded to their
  Arabic twins). Arabic script writes no short vowels, so a Latin spelling of it would
  invent vowels the clerk did not write; instead each Arabic letter has its place in the
  sound key (``ARABIC_SOUNDS``), which both scripts share.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from anyascii import anyascii

# Letters of the Arabic script (Arabic, Persian, Urdu, Kurdish), not its digits or marks.
ARABIC_LETTERS = (
    "\u0620-\u063f\u0641-\u064a\u066e\u066f\u0671-\u06d3\u06d5\u06ee\u06ef\u06fa-\u06ff"
    "\u0750-\u077f\u08a0-\u08c9"
)
_ARABIC = re.compile(f"[{ARABIC_LETTERS}]")
# Sorani writes a word-initial vowel on a hamza seat (ئەحمەد = Ahmed): an alef, as Arabic
# writes it (أحمد). Inside a word ئ is a hamza on a ya, unified below.
_INITIAL_HAMZA_SEAT = re.compile(f"(?<![{ARABIC_LETTERS}])ئ")

# Spellings that mean one letter. Harakat and Quranic marks are combining marks, dropped
# with the others; tatweel (ـ) only stretches a word; a lone hamza (ء) is dropped as the
# Latin apostrophe is (Hawa' = Hawa).
_ARABIC_UNIFIED = str.maketrans(
    {
        "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ٲ": "ا", "ٳ": "ا",
        "ؤ": "و", "ئ": "ي", "ى": "ي", "ی": "ي", "ې": "ي", "ۍ": "ي",
        "ة": "ه", "ۀ": "ه", "ھ": "ه", "ہ": "ه",
        "ک": "ك", "ڪ": "ك",
        "ـ": None, "ء": None,
    }
)  # fmt: skip

# Each Arabic letter's place in the sound key, as Latin spellings of the same name have
# it (projections.names step 2): ث th → s, ذ dh → d, ش sh → s, خ kh → k, غ gh → g,
# ج j → g, ق q → g. Long vowels are marked in capitals (ا A, و U, ي I; Sorani ە E, ێ I,
# ۆ U) so that ``names`` can check them against a Latin spelling's vowels; ع and a hamza
# seat are "?", a vowel of any colour in Latin (Omar, Umar, Ali, Osman all start with ع).
ARABIC_SOUNDS = {
    "ا": "A", "ب": "b", "ت": "t", "ث": "s", "ج": "g", "ح": "h", "خ": "k", "د": "d",
    "ذ": "d", "ر": "r", "ز": "z", "س": "s", "ش": "s", "ص": "s", "ض": "d", "ط": "t",
    "ظ": "z", "ع": "?", "غ": "g", "ف": "f", "ق": "g", "ك": "k", "ل": "l", "م": "m",
    "ن": "n", "ه": "h", "و": "U", "ي": "I",
    # Persian and Kurdish letters
    "پ": "p", "چ": "s", "ژ": "z", "گ": "g", "ڤ": "f", "ڕ": "r", "ڵ": "l",
    "ێ": "I", "ۆ": "U", "ە": "E",
}  # fmt: skip
# Markers of vowels in the Arabic sound string.
ARABIC_VOWELS = frozenset("AUIE?")

# Letters whose usual transliteration does not meet the names people bear:
# Turkish and Kurmanji ç and ş are the sounds Latin clerks write ch and sh (Kılıç =
# Kilich); Russian writes Arabic ح and ه as х (Мухаммад = Muhammad, Хасан = Hasan), far
# more often than خ, and Arabic ج as дж (Джамал = Jamal).
_BEFORE_TRANSLITERATION = str.maketrans(
    {"ç": "ch", "Ç": "Ch", "ş": "sh", "Ş": "Sh", "х": "h", "Х": "H"}
)
_CYRILLIC_DJ = re.compile("[дД]ж")


def is_arabic(text: str) -> bool:
    """True when the text has a letter of the Arabic script."""
    return _ARABIC.search(text) is not None


@lru_cache(maxsize=65_536)
def _latin(char: str) -> str:
    return anyascii(char)


def fold(text: str) -> str:
    """The text with Arabic-script spellings unified and every other script in Latin
    letters, case folded, accents and marks dropped."""
    text = _INITIAL_HAMZA_SEAT.sub("ا", unicodedata.normalize("NFC", text))
    text = _CYRILLIC_DJ.sub("dj", text).translate(_BEFORE_TRANSLITERATION)
    decomposed = unicodedata.normalize("NFKD", text)
    out: list[str] = []
    for char in decomposed:
        if unicodedata.combining(char):
            continue  # accents, harakat, shadda, sukun, Quranic marks
        if char.isascii() or _ARABIC.match(char):
            out.append(char)
        else:
            out.append(_latin(char))
    return "".join(out).casefold().translate(_ARABIC_UNIFIED)


def arabic_sounds(word: str) -> str:
    """An Arabic-script word as ``names.word_key`` reads it: consonants in their key
    letters, vowels as markers (``ARABIC_VOWELS``). A first alef is a hamza seat (أحمد
    Ahmed, إبراهيم Ibrahim, أسامة Osama) and a final ه (teh marbuta, or the -ah of
    Abdallah) or ي (ya, or alef maqsura: Ali, Musa) ends the word in a vowel: of any
    colour, as their Latin spellings have them; so does a final ح, whose Latin spellings
    end in a vowel and an h that the key drops (صالح Salih, Saleh). س or ص then ح is
    what Latin writes "sh", which the key reads as one s (إسحاق Ishaq)."""
    sounds: list[str] = []
    last = len(word) - 1
    for index, char in enumerate(word):
        if (index == last and char in "هيح" and index > 0) or (index == 0 and char == "ا"):
            sounds.append("?")
            continue
        sound = ARABIC_SOUNDS.get(char)
        if sound is None:
            # A letter without a rule here: transliterated, never dropped.
            sound = "".join(c for c in anyascii(char).lower() if c.isalpha()) or "?"
        if sound == "h" and sounds and sounds[-1] == "s":
            continue
        sounds.append(sound)
    return "".join(sounds)
