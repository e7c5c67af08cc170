"""Names compared across transliterations: a normal form, a sound key, and a similarity.

The same person is written Mohammed, Muhammad or Mohamed; Abdel Rahman, Abd al-Rahman or
Abdulrahman; Hussein, Husayn or Hossein, depending on the desk, the language of the
registrar and the document in hand. Three steps make such variants meet:

1. ``normal_tokens``: accents stripped (NFKD), case folded, apostrophes and the ʿayn /
   hamza marks dropped (Sa'id = Said), anything else not a letter or digit splits words.
   Arabic name particles are unified: "abd al X", "abdel X", "abdul X", "abd-el-X" and
   "abdulX" all become "abdX"; "abu X" / "abou X" become "abuX"; a free-standing article
   (al, el, ul) is dropped; bin / ibn / bint / ben between names is dropped. A few written forms
   whose sound keys cannot meet their name's are aliased (Chadian Brahim → Ibrahim).
2. ``sound_key``: a skeleton of each word in the spirit of Soundex, tuned to Arabic
   transliteration: digraphs fold (dj → j, sh/ch/sch → s, kh → k, gh → g, dh → d,
   ph → f, and th → s, as ث is said in Sudan and Chad: Othman = Osman = Ousmane), q → g
   as ق is said there (Ishaq = Ishag, Siddiq = Siddig), c/ck → k, j → g (Jamal = Gamal,
   Tidjani = Tijani), v → f, w → u; a leading vowel becomes "a" (Ibrahim = Ebrahim,
   Omar = Umar); later vowels (y included) are dropped, as is a final h after a vowel
   (Fatimah = Fatima); a final d is written t, as francophone registrars hear it
   (Mohammed = Mahamat, Ahmed = Ahmat); doubled letters collapse (Hussein = Husayn =
   Hossein = "hsn").
3. ``name_similarity``: 0–1, the mean of the spelling similarity of the normal forms and
   the similarity of the sound keys (RapidFuzz token-sort ratio for both, so words written
   in another order still compare; a family name of fewer words is also compared with the
   first words of the other, so "Harun" meets "Haroun Mahmoud"), never below the spelling
   similarity alone. Equal sound keys lift
   spelling variants; different sound keys pull apart names that merely share letters.

The sound key is deliberately coarse (Hassan and Hussein share "hsn"): it chooses which
records are compared at all (see ``block_key``), and the similarity then ranks them.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from rapidfuzz import fuzz

_APOSTROPHES = re.compile(r"['’‘`´ʻʼʽʾʿ]")
_NOT_WORD = re.compile(r"[^0-9a-z]+")
_ARTICLES = frozenset({"al", "el", "ul", "il"})
_CONNECTORS = frozenset({"bin", "ibn", "bint", "binti", "ben", "ould"})
# Spellings of "abd" (servant of) fused with the article, written on their own or glued to
# the next word: abdel, abdul, abdal, abdil, abdol, abdoul, abdoulaye's "abdou".
_ABD = re.compile(r"^abd(?:el|ul|al|il|ol|oul|u|ou)?")
_ABD_WORDS = frozenset({"abd", "abdel", "abdul", "abdal", "abdil", "abdol", "abdoul", "abdu"})
_ABU_WORDS = frozenset({"abu", "abou", "abo"})

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
# leading vowel of Ibrahim.
_ALIASES = {"brahim": "ibrahim"}
_VOWELS = frozenset("aeiouy")


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _APOSTROPHES.sub("", stripped.casefold())


@lru_cache(maxsize=65_536)
def normal_tokens(name: str) -> tuple[str, ...]:
    """The words of a name in a normal spelling (see the module docstring, step 1)."""
    words = [w for w in _NOT_WORD.split(_plain(name)) if w]
    out: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        following = words[i + 1 :]
        if word in _ABD_WORDS and following:
            rest = following[1:] if following[0] in _ARTICLES and len(following) > 1 else following
            out.append("abd" + rest[0])
            i += len(following) - len(rest) + 2
            continue
        if word in _ABU_WORDS and following:
            rest = following[1:] if following[0] in _ARTICLES and len(following) > 1 else following
            out.append("abu" + rest[0])
            i += len(following) - len(rest) + 2
            continue
        if word in _ARTICLES and following:
            i += 1
            continue
        if word in _CONNECTORS and out and following:
            i += 1
            continue
        if word.startswith("abd") and len(word) > 5:
            word = "abd" + _ABD.sub("", word)
        out.append(_ALIASES.get(word, word))
        i += 1
    return tuple(out)


@lru_cache(maxsize=65_536)
def word_key(word: str) -> str:
    """The sound skeleton of one normalised word (see the module docstring, step 2)."""
    for digraph, single in _DIGRAPHS:
        word = word.replace(digraph, single)
    word = word.translate(_LETTERS)
    if not word:
        return ""
    first = "a" if word[0] in _VOWELS else word[0]
    out = [first]
    previous = word[0]
    for index in range(1, len(word)):
        letter = word[index]
        after = word[index + 1] if index + 1 < len(word) else ""
        if letter in _VOWELS:
            previous = letter
            continue
        if letter == "h" and previous in _VOWELS and not after:
            previous = letter
            continue
        if letter == "d" and not after:
            letter = "t"
        if letter != out[-1]:
            out.append(letter)
        previous = letter
    return "".join(out)


def normal_form(given_name: str, family_name: str) -> str:
    """Given and family name in normal spelling, one space between words."""
    return " ".join(normal_tokens(f"{given_name} {family_name}"))


def sound_key(given_name: str, family_name: str) -> str:
    """The sound key of a whole name: each word's key, one space between them."""
    return " ".join(word_key(w) for w in normal_tokens(f"{given_name} {family_name}"))


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
    spelling = fuzz.token_sort_ratio(form_a, form_b) / 100
    sound = fuzz.token_sort_ratio(key_a, key_b) / 100
    return max(spelling, (spelling + sound) / 2)


def _first(text: str, words: int) -> str:
    return " ".join(text.split(" ")[:words])
