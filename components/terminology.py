"""The domain spaCy pipeline: built from ``data/content/terminology.yml``, no model download.

``build_pipeline`` makes a blank English pipeline with the lookup lemmatizer from
spacy-lookups-data and an entity ruler whose patterns come from the terminology
file (pattern ``id`` = canonical value).  ``find_mentions`` runs it on a text and
marks each mention as negated or uncertain from the cue lists in the same file.
Nothing here knows about Rasa; ``components.domain_nlp`` wraps it for Rasa.
"""
from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence

import spacy
import yaml
from spacy.language import Language

from components import signals as sig
from spacy.matcher import Matcher
from spacy.tokens import Doc, Span
from spacy.util import filter_spans
from spacy.util import compile_infix_regex, compile_prefix_regex, compile_suffix_regex

NEGATED = "negated"
UNCERTAIN = "uncertain"
SOMEONE_ELSE = "someone_else"  # a condition told of another person ("my mother had cancer")
FIRST_PERSON_SUBJECT = {"i", "me", "my", "mine", "myself", "im", "i'm", "ive", "i've"}
META_FILE = "meso_terminology.json"
# Word lists of the terminology file that travel with the trained pipeline.
CUE_KEYS = (
    "negation", "uncertainty", "someone_else", "clause_breaks", "english_words",
    "domain_words", "domain_pointers", "domain_pointer_max_words", "injection_words",
    "injection_time_words", "injection_places",
    "animal_words", "animal_owners", "animal_products", "animal_coat_words", "person_words",
    "first_person_words", "first_person_window", "follow_up_words", "worry_words",
)


@dataclass(frozen=True)
class Mention:
    """One recognised term in a text."""

    entity: str
    value: str
    start: int
    end: int
    text: str
    role: Optional[str] = None  # None (affirmed), NEGATED, UNCERTAIN or SOMEONE_ELSE

    def as_rasa_entity(self, extractor: str) -> Dict[str, Any]:
        entity: Dict[str, Any] = {
            "entity": self.entity,
            "value": self.value,
            "start": self.start,
            "end": self.end,
            "confidence_entity": 1.0,
            "extractor": extractor,
            "processors": [],
        }
        if self.role:
            entity["role"] = self.role
        return entity


# Entity types matched apart from the others, so their mentions may overlap another
# label: a topic says what a question is about ("PCOS" is the topic `pcos` and the
# contraindication `endocrine_disorder`). Their phrases are matched loosely: each word
# in its common inflections ("result" ~ "results"), and "..." stands for up to three
# words of any kind ("how long ... results ... last").
OVERLAY_TYPES = ("topic",)
GAP = "..."
GAP_WORDS = 3


def _forms(nlp: Language, word: str) -> List[str]:
    forms = {word, _lemma_of(nlp, word)}
    if len(word) > 3 and word.isalpha():
        forms |= {word + "s", word + "es", word + "ed", word + "d", word + "ing"}
        if word.endswith("e"):
            forms.add(word[:-1] + "ing")
        if word.endswith("y"):
            forms |= {word[:-1] + "ies", word[:-1] + "ied"}
    return sorted(forms)


def overlay_patterns(nlp: Language, terminology: Dict[str, Any]) -> List[Dict[str, Any]]:
    """Matcher patterns for the ``OVERLAY_TYPES`` concepts: {label, id, pattern}."""
    patterns: List[Dict[str, Any]] = []
    for label in OVERLAY_TYPES:
        for canonical, synonyms in ((terminology.get("entities") or {}).get(label) or {}).items():
            for phrase in [canonical.replace("_", " "), *map(str, synonyms)]:
                tokens: List[Dict[str, Any]] = []
                for part in phrase.split(GAP):
                    words = [t.text.lower() for t in nlp.make_doc(part.strip())] if part.strip() else []
                    if tokens and words:
                        tokens += [{"IS_PUNCT": False, "OP": "?"}] * GAP_WORDS
                    tokens += [{"LOWER": {"IN": _forms(nlp, w)}} for w in words]
                if tokens:
                    patterns.append({"label": label, "id": canonical, "pattern": tokens})
    return patterns


def load_terminology(path: Path) -> Dict[str, Any]:
    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    if not isinstance(data.get("entities"), dict):
        raise ValueError(f"{path}: 'entities' must map entity types to concepts")
    return data


def file_fingerprint(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _lemma_of(nlp: Language, word: str) -> str:
    doc = nlp(word)
    return doc[0].lemma_.lower() if len(doc) == 1 else word.lower()


# A topic phrase with a gap ("does ... hurt", "is ... painful") also matches the
# statement that denies it: "the bump doesn't hurt", "it isn't painful". An auxiliary
# verb, then nothing but a negation, then the rest of the phrase is that statement
# ("doesn't it hurt?" has a subject in the gap and stays a question).
_AUXILIARIES = {"do", "does", "did", "is", "are", "was", "were", "will", "wo", "would", "can", "ca", "could",
                "should", "has", "have", "had"}
_NEGATIONS = {"n't", "not", "never", "nt"}


def _negated_inside(words: Sequence[str]) -> bool:
    inner = words[1:-1]
    return len(words) > 2 and words[0] in _AUXILIARIES and bool(inner) and all(w in _NEGATIONS for w in inner)


# "I can't wash my hair until tomorrow, right?", "what shouldn't I do after it?": a
# can't / shouldn't / mustn't before a topic is what the question asks about (the rules
# after a session), not a denial of the topic; other negations still deny it ("I had no
# pain").
TOPIC_LABEL = "topic"
_MODALS = {"ca", "can", "should", "must", "may", "supposed", "allowed"}


def _without_modal_negation(words: Sequence[str]) -> List[str]:
    """``words`` without each modal + negation pair ("ca n't", "can not", "should n't",
    "not allowed", "not supposed")."""
    kept: List[str] = []
    i = 0
    while i < len(words):
        pair = words[i:i + 2]
        if len(pair) == 2 and ((pair[0] in _MODALS and pair[1] in _NEGATIONS)
                               or (pair[0] in _NEGATIONS and pair[1] in ("allowed", "supposed"))):
            i += 2
            continue
        kept.append(words[i])
        i += 1
    return kept


# Words before an "I" that make it the asker of a question ("should I", "can I").
_QUESTION_VERBS = {"should", "can", "could", "do", "would", "shall", "will", "must", "may"}
EXACT_MARK = "="  # a listed phrase written "=word" matches that form only, not its lemma


def _patterns(nlp: Language, terminology: Dict[str, Any]) -> List[Dict[str, Any]]:
    """Entity-ruler patterns: each listed phrase, and each concept's id read as a
    phrase ("alopecia_areata" -> "alopecia areata") unless another concept lists that
    phrase itself (a listed phrase is never hidden by another concept's id)."""
    patterns: List[Dict[str, Any]] = []
    seen = set()

    def phrase_key(phrase: Any) -> tuple:
        return tuple(t.text.lower() for t in nlp.make_doc(str(phrase)))

    ruled = {label: cs for label, cs in terminology["entities"].items() if label not in OVERLAY_TYPES}
    listed = {phrase_key(str(p).lstrip(EXACT_MARK)): (label, c) for label, cs in ruled.items() for c, ps in cs.items()
              for p in ps}
    for label, concepts in ruled.items():
        for canonical, synonyms in concepts.items():
            own_id = canonical.replace("_", " ")
            id_phrase = [own_id] if listed.get(phrase_key(own_id), (label, canonical)) == (label, canonical) else []
            for synonym in [*id_phrase, *synonyms]:
                # "=nursing": this form only, not its lemma ("a nurse" is no breastfeeding)
                exact = str(synonym).startswith(EXACT_MARK)
                tokens = list(phrase_key(str(synonym)[len(EXACT_MARK):] if exact else synonym))
                if not tokens:
                    continue
                variants = [[{"LOWER": t} for t in tokens]]
                last_lemma = _lemma_of(nlp, tokens[-1])
                if last_lemma != tokens[-1] and not exact:
                    variants.append([{"LOWER": t} for t in tokens[:-1]] + [{"LEMMA": last_lemma}])
                for pattern in variants:
                    key = (label, canonical, json.dumps(pattern))
                    if key not in seen:
                        seen.add(key)
                        patterns.append({"label": label, "pattern": pattern, "id": canonical})
    return patterns


def build_pipeline(terminology: Dict[str, Any]) -> Language:
    """Blank English tokenizer + lookup lemmatizer + entity ruler from the terminology."""
    nlp = spacy.blank("en")
    # Split markup from words ("<b>pregnant</b>") so pasted HTML does not hide a term.
    nlp.tokenizer.infix_finditer = compile_infix_regex(list(nlp.Defaults.infixes) + [r"[<>]"]).finditer
    nlp.tokenizer.prefix_search = compile_prefix_regex(list(nlp.Defaults.prefixes) + [r"<"]).search
    nlp.tokenizer.suffix_search = compile_suffix_regex(list(nlp.Defaults.suffixes) + [r">"]).search
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()  # loads the lookup tables; it would also wipe ruler patterns, so the ruler comes after
    patterns = _patterns(nlp, terminology)
    ruler = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": None, "overwrite_ents": True})
    ruler.add_patterns(patterns)
    nlp.meta["name"] = "mesoguide_terminology"
    nlp.meta["description"] = "Built from data/content/terminology.yml by components/terminology.py"
    return nlp


def save_pipeline(nlp: Language, terminology: Dict[str, Any], directory: Path) -> None:
    nlp.to_disk(directory)
    cues = {k: terminology.get(k, {}) for k in CUE_KEYS}
    cues["overlay_patterns"] = overlay_patterns(nlp, terminology)
    (Path(directory) / META_FILE).write_text(json.dumps(cues), encoding="utf-8")


def load_pipeline(directory: Path) -> tuple:
    """Returns (nlp, cues) saved by ``save_pipeline``."""
    nlp = spacy.load(directory)
    cues = json.loads((Path(directory) / META_FILE).read_text(encoding="utf-8"))
    prefilter_entity_ruler(nlp)
    return nlp, cues


def prefilter_entity_ruler(nlp: Language) -> bool:
    """Gives the pipeline's entity ruler a ``PrefilteredMatcher`` in place of its
    matcher (in memory only: nothing stored changes). False when there is no ruler or
    its patterns are not all token patterns."""
    if "entity_ruler" not in nlp.pipe_names:
        return False
    ruler = nlp.get_pipe("entity_ruler")
    if isinstance(ruler.matcher, PrefilteredMatcher) or ruler.phrase_patterns:
        return False
    # The matcher's keys and patterns in the order the ruler added them when loaded:
    # saved from ``ruler.patterns``, which lists them key by key, as here.
    keyed = [(key, pattern) for key, patterns in ruler.token_patterns.items() for pattern in patterns]
    if len(ruler.matcher) != len(ruler.token_patterns) or not all(isinstance(p, list) for _, p in keyed):
        return False
    if any(len(ruler.matcher.get(key)[1]) != len(patterns) for key, patterns in ruler.token_patterns.items()):
        return False
    ruler.matcher = PrefilteredMatcher(ruler.matcher, keyed)
    return True


class PrefilteredMatcher:
    """A token matcher that runs only the patterns a text's words allow.

    Stands in for the entity ruler's matcher (about 1,100 patterns, each tried at
    every word: 0.15 ms of a message's 0.4 ms in the pipeline). A pattern can only
    match when, for each of its tokens that must match (no ``OP``, ``"1"``, ``"+"``),
    the text has a word with that ``LOWER`` or ``LEMMA`` value (or one from its
    ``IN`` list). A matcher holding only those patterns, in the same order, finds the
    same matches in the same order: spaCy follows each pattern's states on their own
    and lists matches in the order of the states (see ``Analyser.overlay_matches``).
    Anything else (keyword arguments, spans, a text without lemmas) goes to the full
    matcher, as do texts that allow every pattern.
    """

    def __init__(self, matcher: Matcher, keyed_patterns: List[tuple]) -> None:
        self._full = matcher
        self._patterns = [(key, pattern, _required_values(pattern)) for key, pattern in keyed_patterns]
        self._by_value: Dict[tuple, List[tuple]] = {}
        self._always: List[int] = []
        for i, (_, _, needed) in enumerate(self._patterns):
            if not needed:
                self._always.append(i)
            for j, values in enumerate(needed):
                for value in values:
                    self._by_value.setdefault(value, []).append((i, j))
        self._subsets: Dict[tuple, Matcher] = {}
        self._uses_lemma = any(str(attr).upper() == "LEMMA" for _, p, _ in self._patterns for spec in p for attr in spec)
        self._usable = bool(self._patterns) and not any(
            str(attr).upper() in ANNOTATION_ATTRS - {"LEMMA"} for _, p, _ in self._patterns for spec in p for attr in spec
        )

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name in ("_full", "_usable"):
            raise AttributeError(name)
        return getattr(self._full, name)

    def add(self, *args: Any, **kwargs: Any) -> None:
        self._usable = False  # patterns added later: the full matcher from now on
        self._full.add(*args, **kwargs)

    def remove(self, *args: Any, **kwargs: Any) -> None:
        self._usable = False
        self._full.remove(*args, **kwargs)

    def __len__(self) -> int:
        return len(self._full)

    def __contains__(self, key: Any) -> bool:
        return key in self._full

    def __call__(self, doclike, **kwargs):
        if kwargs or not self._usable or not isinstance(doclike, Doc) or (
            self._uses_lemma and not doclike.has_annotation("LEMMA")
        ):
            return self._full(doclike, **kwargs)
        present = {("LOWER", t.lower_) for t in doclike}
        if self._uses_lemma:
            present |= {("LEMMA", t.lemma_) for t in doclike}
        met = {pair for value in present for pair in self._by_value.get(value, ())}
        counts: Dict[int, int] = {}
        for i, _ in met:
            counts[i] = counts.get(i, 0) + 1
        patterns = self._patterns
        chosen = tuple(sorted(self._always + [i for i, n in counts.items() if n == len(patterns[i][2])]))
        if len(chosen) == len(patterns):
            return self._full(doclike)
        if not chosen:
            return []
        matcher = self._subsets.get(chosen)
        if matcher is None:
            if len(self._subsets) >= OVERLAY_SUBSETS_KEPT:
                self._subsets.clear()
            matcher = Matcher(self._full.vocab)
            for i in chosen:
                matcher.add(patterns[i][0], [patterns[i][1]])
            self._subsets[chosen] = matcher
        return matcher(doclike)


def _starts(words: Sequence[str], i: int, phrases: List[List[str]]) -> int:
    """The length of the longest of ``phrases`` that starts at ``words[i]``, else 0."""
    return max((len(p) for p in phrases if p and list(words[i:i + len(p)]) == p), default=0)


def _phrases(items: Iterable[str], nlp: Language) -> List[List[str]]:
    return [[t.text.lower() for t in nlp.make_doc(str(i))] for i in items]


class CueMatcher:
    """Decides whether a mention is negated or uncertain from nearby cue phrases."""

    def __init__(self, nlp: Language, cues: Dict[str, Any]) -> None:
        negation = cues.get("negation") or {}
        self.window = int(negation.get("window", 6))
        self.neg_before = _phrases(negation.get("before", []), nlp)
        self.neg_after = _phrases(negation.get("after", []), nlp)
        self.pseudo = _phrases(negation.get("pseudo", []), nlp)
        self.unc_before = _phrases((cues.get("uncertainty") or {}).get("before", []), nlp)
        other = cues.get("someone_else") or {}
        self.other_before = _phrases(other.get("before", []), nlp)
        self.other_entities = set(other.get("entities") or [])
        self.breaks = {str(b).lower() for b in cues.get("clause_breaks", [])}

    @staticmethod
    def _has_phrase(words: Sequence[str], phrases: List[List[str]]) -> bool:
        for phrase in phrases:
            n = len(phrase)
            if not n:
                if list(words[0:0]) == phrase:  # the empty phrase is in every text
                    return True
                continue
            first = phrase[0]  # compare the first word before slicing
            for i in range(len(words) - n + 1):
                if words[i] == first and list(words[i : i + n]) == phrase:
                    return True
        return False

    def _told_of_someone_else(self, left: Sequence[str]) -> bool:
        """A someone-else cue ("my mother") before the mention with no "I" after it ("I
        told my mum I'm pregnant" is the visitor's pregnancy)."""
        last = max((i + len(p) for p in self.other_before if p for i in range(len(left) - len(p) + 1)
                    if list(left[i:i + len(p)]) == p), default=None)
        return last is not None and not FIRST_PERSON_SUBJECT & set(left[last:])

    def role(self, words: Sequence[str], start: int, end: int, label: Optional[str] = None) -> Optional[str]:
        left: List[str] = []
        i = start - 1
        while i >= 0 and len(left) < self.window and words[i] not in self.breaks:
            left.insert(0, words[i])
            i -= 1
        if label in self.other_entities and self._told_of_someone_else(left):
            return SOMEONE_ELSE
        if self._has_phrase(left, self.unc_before):
            return UNCERTAIN
        negation_left = _without_modal_negation(left) if label == TOPIC_LABEL else left
        if self._has_phrase(negation_left, self.neg_before) and not self._has_phrase(left, self.pseudo):
            return NEGATED
        right: List[str] = []
        j = end
        while j < len(words) and len(right) < 2 and words[j] not in self.breaks - {":"}:
            if words[j] != ":":
                right.append(words[j])
            j += 1
        if right and self._has_phrase(right[:1], self.neg_after):
            return NEGATED
        return None


# A typo of a long domain word ("mesoterapy", "injectoins", "dermatoligist") keeps a
# question in the domain: a word of at least this many letters that is no English word
# (spaCy's lookup tables, spacy-lookups-data) and is one letter added, dropped or changed
# (or two swapped) away from a domain word of that length. Real words never count, so
# "thinking" is not taken for "thinning".
TYPO_MIN_LETTERS = 6


@functools.lru_cache(maxsize=1)
def _english_words() -> frozenset:
    """Every English word form spaCy's lookup tables know (about 130,000)."""
    from spacy.lookups import load_lookups

    tables = load_lookups("en", ["lemma_lookup", "lemma_index", "lemma_exc"], strict=False)
    words = set()
    for name in tables.tables:
        table = tables.get_table(name)
        for key in table.keys():
            value = table[key]
            if isinstance(value, str):
                words.update((key, value))
            elif isinstance(value, list):
                words.update(value)
            elif isinstance(value, dict):
                words.update(value)
                for forms in value.values():
                    words.update(forms if isinstance(forms, list) else [])
    return frozenset(w.lower() for w in words if isinstance(w, str))


def _one_letter_off(word: str) -> set:
    """The word with each one of its letters dropped."""
    return {word[:i] + word[i + 1:] for i in range(len(word))}


class Analyser:
    """The pipeline and its cue matcher, ready to analyse texts."""

    def __init__(self, nlp: Language, cues: Dict[str, Any]) -> None:
        self.nlp = nlp
        self.matcher = CueMatcher(nlp, cues)
        self.english = {str(w).lower() for w in cues.get("english_words") or []}
        self.domain_words = {str(w).lower() for w in cues.get("domain_words") or []}
        self.domain_pointers = {str(w).lower() for w in cues.get("domain_pointers") or []}
        long_words = [w for w in self.domain_words if len(w) >= TYPO_MIN_LETTERS and w.isalpha()]
        self._near_domain = set(long_words).union(*(_one_letter_off(w) for w in long_words))
        if self._near_domain:
            _english_words()  # loaded once, at start-up rather than on a visitor's message
        self.pointer_max_words = int(cues.get("domain_pointer_max_words") or 0)
        self.follow_up_words = {str(w).lower() for w in cues.get("follow_up_words") or []}
        self.worry_words = _phrases(cues.get("worry_words") or [], nlp)
        self.injection_phrases = _phrases(cues.get("injection_words") or [], nlp)
        self.injection_times = {str(w).lower() for w in cues.get("injection_time_words") or []}
        self.injection_places = _phrases(cues.get("injection_places") or [], nlp)
        self.animal_words = _phrases(cues.get("animal_words") or [], nlp)
        self.animal_owners = {str(w).lower() for w in cues.get("animal_owners") or []}
        self.animal_products = {str(w).lower() for w in cues.get("animal_products") or []}
        self.animal_coat_words = _phrases(cues.get("animal_coat_words") or [], nlp)
        self.person_words = _phrases(cues.get("person_words") or [], nlp)
        self.first_person = {p[0] for p in _phrases(cues.get("first_person_words") or [], nlp) if p}
        self.first_person_window = int(cues.get("first_person_window") or 0)
        found = cues.get("overlay_patterns")
        # the full matcher, and the same patterns run only where a text's words allow
        # them (``PrefilteredMatcher``, as for the entity ruler)
        self.overlay = Matcher(nlp.vocab)
        keyed = []
        for p in found if found is not None else overlay_patterns(nlp, cues):
            key = f"{p['label']}|{p['id']}"
            self.overlay.add(key, [p["pattern"]])
            keyed.append((key, p["pattern"]))
        self._overlay_fast = PrefilteredMatcher(self.overlay, keyed)

    @classmethod
    def from_terminology_file(cls, path: Path) -> "Analyser":
        terminology = load_terminology(path)
        return cls(build_pipeline(terminology), terminology)

    def mentions(self, text: str, doc=None) -> List[Mention]:
        doc = doc if doc is not None else self.nlp(text)
        return find_mentions(self.matcher, doc) + self.overlay_mentions(doc)

    def overlay_mentions(self, doc) -> List[Mention]:
        """Mentions of the overlay types (topics): per type, the longest matches that
        do not overlap each other, and those lying inside another topic's match, in
        text order."""
        words = [t.lower_ for t in doc]
        spans = [Span(doc, start, end, label=doc.vocab.strings[key]) for key, start, end in self.overlay_matches(doc)]
        kept = filter_spans(spans)
        # a topic named inside another's gap ("stop ... before" around "minoxidil" in
        # "when to stop minoxidil before pregnancy") is named all the same
        kept += filter_spans([
            sp for sp in spans
            if any(k.start < sp.start and sp.end < k.end and k.label_ != sp.label_ for k in kept)
            and not any(k.start <= sp.start < k.end and not (k.start < sp.start and sp.end < k.end)
                        for k in kept)
        ])
        found = []
        for span in sorted(kept, key=lambda sp: sp.start):
            label, _, value = span.label_.partition("|")
            role = NEGATED if _negated_inside(words[span.start:span.end]) else self.matcher.role(
                words, span.start, span.end, TOPIC_LABEL)
            found.append(Mention(label, value, span.start_char, span.end_char, span.text, role))
        return found

    def overlay_matches(self, doc) -> List[tuple]:
        """``self.overlay(doc)``: the same matches in the same order, found faster.

        The overlay patterns test each word against lists of forms (``LOWER`` ``IN``),
        which spaCy's matcher checks for every pattern at every word (about 1 ms a
        message for some 850 patterns); ``PrefilteredMatcher`` runs only the patterns
        the text's words allow (tests/components/test_nlu_fast_paths.py compares both
        on every training example).
        """
        return self._overlay_fast(doc)

    def looks_non_english(self, text: str, doc=None) -> bool:
        """Four or more words, none of them a common English word or a known term."""
        doc = doc if doc is not None else self.nlp(text)
        words = [t.lower_ for t in doc if t.is_alpha]
        if len(words) < 4 or doc.ents or not self.english:
            return False
        return not any(w in self.english for w in words)


    def in_domain(self, text: str, doc=None) -> bool:
        """Whether the message is about hair, the treatment or the clinic at all.

        True when it names a terminology term or a domain word (or its lemma), or when
        it is short and points back at the topic ("how is it done?"). Messages with
        no letters are left to the other guards (True here).
        """
        doc = doc if doc is not None else self.nlp(text)
        words = [t for t in doc if t.is_alpha or "'" in t.text]
        if not words or doc.ents or not self.domain_words:
            return True
        lowers = {t.lower_ for t in words} | {(t.lemma_ or "").lower() for t in words}
        if lowers & self.domain_words:
            return True
        alpha = [t for t in words if t.is_alpha]
        # the English share only when a typo is found (rare; the scan is the costly part)
        if any(self.is_domain_typo(t.lower_) for t in alpha) and self._mostly_english(alpha):
            return True
        return len(alpha) <= self.pointer_max_words and bool(lowers & self.domain_pointers)

    @staticmethod
    def _mostly_english(words) -> bool:
        """At least half the words besides the misspelt one are English: a typo is read
        only in an English message ("sesiones" in a Spanish question is not "sessions"
        misspelt; "how mny sesions" is English with two slips)."""
        known = _english_words()
        return sum(t.lower_ in known for t in words) * 2 >= len(words) - 1

    def is_domain_typo(self, word: str) -> bool:
        """A misspelt domain word (see ``TYPO_MIN_LETTERS``)."""
        if len(word) < TYPO_MIN_LETTERS or not self._near_domain or word in _english_words():
            return False
        return word in self._near_domain or bool(_one_letter_off(word) & self._near_domain)

    def signals(self, text: str, doc=None) -> Dict[str, bool]:
        """The message-level signals DomainSpacyNLP writes (``meso_signals``)."""
        doc = doc if doc is not None else self.nlp(text)
        return {
            "in_domain": self.in_domain(text, doc=doc),
            "injection_context": self.injection_context(text, doc=doc),
            "about_animal": self.about_animal(text, doc=doc),
            "follow_up": self.follow_up(text, doc=doc),
            "worried": self.worried(text, doc=doc),
        }

    def worried(self, text: str, doc=None) -> bool:
        """Words of fear or worry ("i'm scared", "so worried"): ``worry_words``, not
        denied just before ("I'm not worried", "never scared")."""
        doc = doc if doc is not None else self.nlp(text)
        words = [t.lower_ for t in doc]
        return any(_starts(words, i, self.worry_words)
                   and not {"not", "n't", "never", "no"} & set(words[max(0, i - 2):i]) for i in range(len(words)))

    def follow_up(self, text: str, doc=None) -> bool:
        """A short question that leans on what was just said ("what about aspirin", "how
        far apart", "so should I do it or not"): opened as a follow-up
        (``signals.follow_up_shape``), and at most one word that is neither common
        English, a domain word nor one of ``follow_up_words`` ("how far is paris from
        london" has two: no follow-up)."""
        if not sig.follow_up_shape(text):
            return False
        doc = doc if doc is not None else self.nlp(text)
        known = self.english | self.domain_words | self.domain_pointers | self.follow_up_words
        unknown = [t for t in doc if t.is_alpha and t.lower_ not in known and (t.lemma_ or "").lower() not in known]
        return len(unknown) <= 1

    def about_animal(self, text: str, doc=None) -> bool:
        """Whether the message is about an animal's coat ("my dog is losing fur in
        patches", "why is my cat's hair thinning?"), narrowly (terminology.yml explains
        the lists): an owned animal with a coat word after it in the same sentence, and
        nothing that makes it about a person (their hair, a family member, catching
        something from the animal, "I" near a coat word, a child red flag). A person
        sent to a vet would be a safety miss; a pet owner sent to a doctor is not."""
        if not self.animal_words:
            return False
        doc = doc if doc is not None else self.nlp(text)
        words = [t.lower_ for t in doc]
        if not any(_starts(words, i, self.animal_words) for i in range(len(words))):
            return False  # the common case: no animal word at all
        if CueMatcher._has_phrase(words, self.person_words):
            return False
        coat_at = [i for i in range(len(words)) if _starts(words, i, self.animal_coat_words)]
        window = self.first_person_window
        # ("what should I do?", "can I help her?": the asker, not someone with the patch)
        asking = {i for i in range(1, len(words)) if words[i - 1] in _QUESTION_VERBS}
        if any(w in self.first_person and i not in asking and any(abs(i - c) <= window for c in coat_at)
               for i, w in enumerate(words)):
            return False
        if any(m.entity == "red_flag" and m.value == "child" for m in find_mentions(self.matcher, doc)):
            return False
        for i in range(len(words)):
            length = _starts(words, i, self.animal_words)
            if not length:
                continue
            after = i + length
            possessive = after < len(words) and words[after] in ("'s", "s'", "’s")
            owned = possessive or any(w in self.animal_owners for w in words[max(0, i - 3):i])
            if not owned or (after < len(words) and words[after] in self.animal_products):
                continue
            sentence_end = next((j for j in range(after, len(words)) if words[j] in (".", "?", "!")), len(words))
            if any(after <= c < sentence_end for c in coat_at):
                return True
            # "bald patches on my dog", "the fur of our cat": the coat word before it
            owner_at = next((j for j in range(max(0, i - 3), i) if words[j] in self.animal_owners), None)
            if owner_at and words[owner_at - 1] in ("on", "of") and owner_at - 1 > 0:
                sentence_start = max((j + 1 for j in range(owner_at) if words[j] in (".", "?", "!")), default=0)
                if any(sentence_start <= c < owner_at for c in coat_at):
                    return True
        return False

    def injection_context(self, text: str, doc=None) -> bool:
        """Whether the message tells of something after an injection or a session: an
        injection word at most four words after a time word ("since my last session",
        "I had mesotherapy"), or an injection place ("the injection sites")."""
        doc = doc if doc is not None else self.nlp(text)
        words = [t.lower_ for t in doc]
        lemmas = [(t.lemma_ or t.text).lower() for t in doc]
        if CueMatcher._has_phrase(words, self.injection_places):
            return True
        if not self.injection_times:  # a pipeline saved before the time words: any mention
            return CueMatcher._has_phrase(words, self.injection_phrases) or CueMatcher._has_phrase(
                lemmas, self.injection_phrases
            )
        for i, word in enumerate(words):
            if word in self.injection_times:
                after = words[i + 1 : i + 6]
                after_lemmas = lemmas[i + 1 : i + 6]
                if CueMatcher._has_phrase(after, self.injection_phrases) or CueMatcher._has_phrase(
                    after_lemmas, self.injection_phrases
                ):
                    return True
        return False


# Token attributes the matcher refuses to test on a text without that annotation; an
# overlay pattern using one is always run with the full matcher (same errors).
ANNOTATION_ATTRS = {"TAG", "POS", "MORPH", "LEMMA", "DEP"}
OVERLAY_SUBSETS_KEPT = 1024


def _required_values(pattern: List[Dict[str, Any]]) -> tuple:
    """For each token of a matcher pattern that must match exactly one word or more
    (no ``OP``, ``"1"`` or ``"+"``) and tests ``LOWER`` or ``LEMMA``: the (attribute,
    value) pairs it accepts, one set per attribute tested. A text without any pair of
    one set cannot match the pattern."""
    needed = []
    for spec in pattern:
        if not isinstance(spec, dict) or spec.get("OP", "1") not in ("1", "+"):
            continue
        for attr, value in spec.items():
            name = str(attr).upper()
            if name not in ("LOWER", "LEMMA"):
                continue
            if isinstance(value, str):
                needed.append(frozenset([(name, value)]))
            elif (
                isinstance(value, dict) and set(value) == {"IN"} and isinstance(value["IN"], list)
                and all(isinstance(v, str) for v in value["IN"])
            ):
                needed.append(frozenset((name, v) for v in value["IN"]))
    return tuple(needed)


def find_mentions(matcher: CueMatcher, doc) -> List[Mention]:
    """All terminology mentions in ``doc`` with their negation/uncertainty role."""
    words = [t.lower_ for t in doc]
    mentions = []
    for ent in doc.ents:
        mentions.append(
            Mention(
                entity=ent.label_,
                value=ent.ent_id_ or ent.text.lower(),
                start=ent.start_char,
                end=ent.end_char,
                text=ent.text,
                role=matcher.role(words, ent.start, ent.end, ent.label_),
            )
        )
    return mentions
