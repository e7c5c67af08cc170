"""Names compared across transliterations and scripts: a normal form, a sound key, and a
similarity.

The same person is written Mohammed, Muhammad or Mohamed; محمد; Мухаммад; Abdel Rahman,
Abd al-Rahman, Abdulrahman or عبد الرحمن; Hussein, Husayn, Hüseyin or حسين, depending
on the desk, the language of the registrar and the document in hand. Three steps make
such variants meet:

1. ``normal_tokens``: Arabic-script letters are unified and every other script is put in
   Latin letters (``projections.scripts``: nothing is dropped); accents stripped, case
   folded, apostrophes and the ʿayn / hamza marks dropped (Sa'id = Said); anything else
   not a letter or digit splits words. Arabic name particles are unified in either script:
   "abd al X", "abdel X", "abdul X", "abd-el-X", "abdulX", عبد الرحمن and عبدالرحمن all
   become one word; "abu X" / "abou X" / أبو X likewise; a free-standing article (al, el,
   ul, ال) and an article at the start of an Arabic-script word are dropped; bin / ibn /
   bint / ben / بن between names is dropped. A few written forms whose sound keys cannot
   meet their name's are aliased (Chadian Brahim → Ibrahim).
2. ``sound_key``: a skeleton of each word in the spirit of Soundex, tuned to Arabic
   transliteration: digraphs fold (dj → j, sh/ch/sch → s, kh → k, gh → g, dh → d,
   ph → f, and th → s, as ث is said in Sudan and Chad: Othman = Osman = Ousmane), q → g
   as ق is said there (Ishaq = Ishag, Siddiq = Siddig), c/ck → k, j → g (Jamal = Gamal,
   Tidjani = Tijani), v → f, w → u; a leading vowel becomes "a" (Ibrahim = Ebrahim,
   Omar = Umar); later vowels (y included) are dropped, as is a final h after a vowel
   (Fatimah = Fatima); a final d is written t, as francophone registrars hear it
   (Mohammed = Mahamat, Ahmed = Ahmat); doubled letters collapse (Hussein = Husayn =
   Hossein = "hsn"). An Arabic-script word gets its key from its letters
   (``scripts.ARABIC_SOUNDS``): محمد = "mhmt" = Mohamed; ع at a word's start is a vowel
   (عمر = Omar = "amr").
3. ``name_similarity``: 0–1. Between two Latin-letter names: the mean of the spelling
   similarity of the normal forms and the similarity of the sound keys (RapidFuzz
   token-sort ratio for both, so words written in another order still compare), never
   below the spelling similarity alone. When either name is in Arabic script, which writes
   no short vowels, only the sound keys are compared, and keys that are not the same words
   lose ``KEY_MISMATCH_PENALTY``. In both, a word whose key matches but whose written long
   vowels cannot be one name's (Hassan / Hussein, حسن / حسين, محمود / Mohammed) caps the
   similarity (``_clash``). A family name of fewer words is also compared with the first
   words of the other, so "Harun" meets "Haroun Mahmoud". A name that normalises to
   nothing scores 0.

The sound key is deliberately coarse (Hassan and Hussein share "hsn"): it chooses which
records are compared at all (see ``block_key``), and the similarity then ranks them. A
name with no key has no block.
"""

from __future__ import annotations

import re
from functools import lru_cache

from rapidfuzz import fuzz

from campledger.projections.scripts import (
    ARABIC_LETTERS,
    ARABIC_VOWELS,
    arabic_sounds,
    fold,
    is_arabic,
)

_APOSTROPHES = re.compile(r"['’‘`´ʻʼʽʾʿ]")
# A word is Latin letters and digits, or Arabic-script letters: anything else splits words.
_WORD = re.compile(f"[0-9a-z]+|[{ARABIC_LETTERS}]+")
_ARTICLES = frozenset({"al", "el", "ul", "il", "ال"})
_CONNECTORS = frozenset({"bin", "ibn", "bint", "binti", "ben", "ould", "بن", "ابن", "بنت"})
# Spellings of "abd" (servant of) fused with the article, written on their own or glued to
# the next word: abdel, abdul, abdal, abdil, abdol, abdoul, abdoulaye's "abdou".
_ABD = re.compile(r"^abd(?:el|ul|al|il|ol|oul|u|ou)?")
_ABD_WORDS = frozenset(
    {"abd", "abdel", "abdul", "abdal", "abdil", "abdol", "abdoul", "abdu", "عبد"}
)
_ABU_WORDS = frozenset({"abu", "abou", "abo", "ابو"})
_ARABIC_ABD, _ARABIC_ABU, _ARABIC_ARTICLE = "عبد", "ابو", "ال"
# Names whose first letters are not the article: Ilyas, Ilham, Olfat, Almas.
_ARTICLE_NAMES = frozenset({"الياس", "الهام", "الفت", "الماس"})

_DIGRAPHS = (
    ("dj", "j"),
    ("sch", "s"),
    ("sh", "s"),
    ("ch", "s"),
    ("kh", "k"),
    ("gh", "g"),
    ("th", "s"),
    ("dh", "d"),
    ("ph", "f"),
    ("ck", "k"),
)
_LETTERS = str.maketrans({"q": "g", "c": "k", "j": "g", "v": "f", "w": "u", "x": "k"})
# Written forms whose sound keys do not meet their name's: Chadian "Brahim" drops the
# leading vowel of Ibrahim, "Abakar" is Abu Bakr, "Djibrine" Jibril; Russian writes
# Arabic ه as г (Ибрагим, Магомед); Turkish ends Zaynab and Rajab in p.
_ALIASES = {
    "brahim": "ibrahim", "abakar": "abubakar", "djibrine": "jibril", "jibrine": "jibril",
    "ibragim": "ibrahim", "magomed": "mohamed", "zeynep": "zeynab", "recep": "rajab",
}  # fmt: skip
_VOWELS = frozenset("aeiouy")
_ARABIC_KEY_VOWELS = _VOWELS | ARABIC_VOWELS

# Across scripts, and between two Arabic-script names, only the sound key is shared (the
# Arabic skeleton has no short vowels to spell-compare): keys that are not the same words
# lose this much, because no spelling similarity can vouch for them.
KEY_MISMATCH_PENALTY = 0.2
# A word whose sound key matches but whose written long vowels cannot be one name's
# (Hasan حسن / Hussein حسين, Muhammad محمد / Mahmud محمود) counts this much less.
VOWEL_CLASH_WEIGHT = 0.5
# Latin spellings of a long i or ay (ي): Hussein, Husayn, Zeinab, Saeed.
_LONG_I = ("ee", "ei", "ai", "ay", "ey", "ie", "ii", "iy")
# Which Latin vowels can spell each written Arabic vowel (ە: Sorani's written short e).
_SPELLS = {"A": "ae", "U": "ou", "I": "iey", "E": "aei"}


def _plain(text: str) -> str:
    return _APOSTROPHES.sub("", fold(text))


def _without_article(word: str) -> str:
    if len(word) > 3 and word.startswith(_ARABIC_ARTICLE) and word not in _ARTICLE_NAMES:
        return word[2:]
    return word


def _glued(particle: str, word: str) -> str:
    """A particle (abd, abu) glued to the name it belongs to, in that name's script."""
    if is_arabic(particle):
        return (_ARABIC_ABD if particle == _ARABIC_ABD else _ARABIC_ABU) + word
    return ("abd" if particle in _ABD_WORDS else "abu") + word


@lru_cache(maxsize=65_536)
def normal_tokens(name: str) -> tuple[str, ...]:
    """The words of a name in a normal spelling (see the module docstring, step 1)."""
    words = [_without_article(w) for w in _WORD.findall(_plain(name))]
    out: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        following = words[i + 1 :]
        if (word in _ABD_WORDS or word in _ABU_WORDS) and following:
            rest = following[1:] if following[0] in _ARTICLES and len(following) > 1 else following
            out.append(_glued(word, rest[0]))
            i += len(following) - len(rest) + 2
            continue
        if word in _ARTICLES and following:
            i += 1
            continue
        # An Arabic-script بن is never a name: also when a family name starts with it.
        if word in _CONNECTORS and following and (out or is_arabic(word)):
            i += 1
            continue
        if word.startswith("abd") and len(word) > 5:
            word = "abd" + _ABD.sub("", word)
        elif word.startswith((_ARABIC_ABD, _ARABIC_ABU)) and len(word) > 3:
            word = word[:3] + _without_article(word[3:])
        out.append(_ALIASES.get(word, word))
        i += 1
    return tuple(out)


@lru_cache(maxsize=65_536)
def _shape(word: str) -> tuple[str, tuple[str, ...], bool]:
    """A word's sound key, the vowels written after each key letter, and whether it is
    in Arabic script."""
    if is_arabic(word):
        return (*_skeleton(arabic_sounds(word), _ARABIC_KEY_VOWELS), True)
    for digraph, single in _DIGRAPHS:
        word = word.replace(digraph, single)
    return (*_skeleton(word.translate(_LETTERS), _VOWELS), False)


def _skeleton(letters: str, vowels: frozenset[str]) -> tuple[str, tuple[str, ...]]:
    if not letters:
        return "", ()
    first = letters[0]
    out = ["a" if first in vowels else first]
    # slots[i]: the vowels written after key letter i (a leading vowel is in slot 0).
    slots = [first if first in vowels else ""]
    previous = first
    for index in range(1, len(letters)):
        letter = letters[index]
        after = letters[index + 1] if index + 1 < len(letters) else ""
        if letter in vowels:
            slots[-1] += letter
            previous = letter
            continue
        if letter == "h" and previous in vowels and not after:
            previous = letter
            continue
        if letter == "d" and not after:
            letter = "t"
        if letter != out[-1]:
            out.append(letter)
            slots.append("")
        elif slots[-1]:
            # One key letter, two syllables (Babiker's "ba", "bi"): not one diphthong.
            slots[-1] += "|"
        previous = letter
    return "".join(out), tuple(slots)


def word_key(word: str) -> str:
    """The sound skeleton of one normalised word (see the module docstring, step 2)."""
    return _shape(word)[0]


def normal_form(given_name: str, family_name: str) -> str:
    """Given and family name in normal spelling, one space between words."""
    return " ".join(normal_tokens(f"{given_name} {family_name}"))


def sound_key(given_name: str, family_name: str) -> str:
    """The sound key of a whole name: each word's key, one space between them."""
    return " ".join(word_key(w) for w in normal_tokens(f"{given_name} {family_name}"))


def search_keys(*names: str | None) -> list[str]:
    """The sound keys of every word of the given names, each once, in a stable order: a
    search finds a record whose keys include every key of the words searched for, so any
    spelling in either script finds the same person (and near names: Hassan finds
    Hussein, as their keys are one)."""
    keys = {word_key(w) for name in names if name for w in normal_tokens(name)}
    keys.discard("")
    return sorted(keys)


def block_key(given_name: str, family_name: str) -> str:
    """The key records must share to be compared at all: the sound key of the family
    name's first word — the father's name, when the family name is the father's and the
    grandfather's, as one desk records two names and the next three — or of the last given
    name when there is no family name (a second name is often the father's)."""
    family = normal_tokens(family_name)
    if family:
        return word_key(family[0])
    given = normal_tokens(given_name)
    return word_key(given[-1]) if given else ""


def name_similarity(
    form_a: str, key_a: str, form_b: str, key_b: str, *, prefix: bool = False
) -> float:
    """0–1: how alike two names are in spelling and in sound (module docstring, step 3).

    ``prefix``: when one name has fewer words, it is also compared with as many first
    words of the other ("Harun" with "Haroun Mahmoud": a father's name written without,
    then with, the grandfather's).
    """
    # Either order gives the same answer: ask the cache one way only.
    if (form_b, key_b) < (form_a, key_a):
        form_a, key_a, form_b, key_b = form_b, key_b, form_a, key_a
    return _name_similarity(form_a, key_a, form_b, key_b, prefix)


# A caseload of common names compares the same few spellings over and over.
@lru_cache(maxsize=1 << 20)
def _name_similarity(form_a: str, key_a: str, form_b: str, key_b: str, prefix: bool) -> float:
    best = _similarity(form_a, key_a, form_b, key_b)
    if prefix:
        words_a, words_b = form_a.count(" ") + 1, form_b.count(" ") + 1
        if words_a != words_b:
            n = min(words_a, words_b)
            best = max(
                best,
                _similarity(
                    _first(form_a, n), _first(key_a, n), _first(form_b, n), _first(key_b, n)
                ),
            )
    return best


def _similarity(form_a: str, key_a: str, form_b: str, key_b: str) -> float:
    if not form_a or not form_b:
        return 0.0  # a name that normalises to nothing is no evidence of anything
    sound = fuzz.token_sort_ratio(key_a, key_b) / 100
    words_a, words_b = key_a.split(" "), key_b.split(" ")
    if _in_arabic(form_a) or _in_arabic(form_b):
        # Arabic script writes no short vowels: only the sound key is shared.
        same_words = sorted(words_a) == sorted(words_b)
        score = sound if same_words else max(sound - KEY_MISMATCH_PENALTY, 0.0)
    else:
        spelling = fuzz.token_sort_ratio(form_a, form_b) / 100
        score = max(spelling, (spelling + sound) / 2)
    if score and not set(words_a).isdisjoint(words_b):  # only words of one key can clash
        clashes, words = _vowel_clashes(form_a, form_b)
        if clashes:
            score = min(score, 1 - VOWEL_CLASH_WEIGHT * clashes / words)
    return score


@lru_cache(maxsize=65_536)
def _in_arabic(form: str) -> bool:
    return is_arabic(form)


def _vowel_clashes(form_a: str, form_b: str) -> tuple[int, int]:
    """How many words of the two names share a sound key but cannot be one name by the
    long vowels written in them, and of how many words."""
    words_a, words_b = form_a.split(" "), form_b.split(" ")
    unpaired = [_shape(w) for w in words_b]
    clashes = 0
    for word in words_a:
        key, slots, arabic = _shape(word)
        for index, (other_key, other_slots, other_arabic) in enumerate(unpaired):
            if other_key == key:
                del unpaired[index]
                if any(
                    _clash(x, arabic, y, other_arabic)
                    for x, y in zip(slots, other_slots, strict=True)
                ):
                    clashes += 1
                break
    return clashes, max(len(words_a), len(words_b))


def _clash(a: str, a_arabic: bool, b: str, b_arabic: bool) -> bool:
    """Whether the vowels written after one key letter in two words cannot be one name's.

    Arabic script writes long vowels (ا و ي) and no short ones; Latin spellings write
    both, alike. So: two Arabic spellings clash when their long vowels differ (حسن / حسين);
    an Arabic long vowel clashes with a Latin spelling that has no vowel able to spell it
    (محمود / Mohammed); a Latin long i (ei, ai, ay, ee) clashes with no ي written
    (حسن / Hussein), and with a Latin spelling without i, e or y (Hassan / Hussein).
    ع or a hamza seat ("?") can stand for any vowel: it never clashes.
    """
    if a_arabic and b_arabic:
        # Both spellings write their long vowels, ع or not (سعد / سعيد).
        return set(a) & set("AUI") != set(b) & set("AUI")
    if a_arabic or b_arabic:
        arabic, latin = (a, b) if a_arabic else (b, a)
        if "?" in arabic:
            return False
        if any(not any(c in latin for c in _SPELLS[m]) for m in arabic if m in _SPELLS):
            return True
        return "I" not in arabic and any(m in latin for m in _LONG_I)
    long_a, long_b = any(m in a for m in _LONG_I), any(m in b for m in _LONG_I)
    if long_a == long_b:
        return False
    return not any(c in (b if long_a else a) for c in "iey")


def _first(text: str, words: int) -> str:
    return " ".join(text.split(" ")[:words])
