"""Reading level of every visitor-facing text (Flesch-Kincaid grade).

Visitor-facing texts: the knowledge answers, their variants and leads, the lines of the
comparisons (data/content/knowledge.yml), each claim as the visitor reads it (claim, evidence
and meaning; data/content/claims.yml), the article-claim notes shown with a
source (data/content/sources.yml), the messages (data/content/messages.yml) and
the fixed responses in domain.yml. Placeholders are filled with the clinic's
details or typical values first; the messages that name what the visitor said
are also measured with each thing they can name (every screening item's label and
advice, every red-flag reason of routing.yml, every triage reason of messages.yml
``fill_ins``), since those words are part of what the visitor reads.

    python scripts/reading_level.py            # print the distribution and the hardest texts
    python scripts/reading_level.py --write    # also update the "Reading level" section of docs/quality.md

The syllable counter is a small heuristic (vowel groups, silent final e, a few
suffix rules); it is within a syllable of a dictionary count for most words, which
is what a grade estimate needs. No dependency beyond PyYAML.
"""
from __future__ import annotations

import argparse
import re
import statistics
import sys
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

import yaml

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from contentfiles import clinic_placeholders  # noqa: E402

CONTENT = ROOT / "data" / "content"
QUALITY = ROOT / "docs" / "quality.md"

MAX_GRADE = 8.0
MEDIAN_GRADE = 8.0
SECTION = "## Reading level"

# Typical values for the placeholders a flow fills in.
PLACEHOLDERS = {
    "items": "pregnancy",
    "advice": "practitioners advise against mesotherapy during pregnancy",
    "signs": "round bare patches",
    "causes": "a recent illness",
    "family": ", and hair loss in your family",
    "kind": "mesotherapy",
    "contact": "name@example.com",
    "time": "mornings",
    "questions": "7 questions",
    "title": "Mesotherapy for hair",
    "reasons": "round bald patches",
    "conditions": "pregnancy",
    "options": "Yes, No, Not sure",
    "max_chars": "1000",
}

# Words whose syllables the rules below get wrong.
EXCEPTIONS = {
    "the": 1, "every": 2, "everyone": 3, "everything": 3, "area": 3, "areas": 3, "idea": 3, "via": 2,
    "being": 2, "doing": 2, "going": 2, "seeing": 2, "create": 2, "period": 3, "periods": 3,
    "mesotherapy": 5, "areata": 4, "alopecia": 5, "dhi": 3, "fue": 3, "fut": 3, "prp": 3, "pcos": 4,
    "gp": 2, "nhs": 3, "fda": 3, "ishrs": 5, "covid": 2, "ok": 2, "e-mail": 2, "email": 2,
    "minoxidil": 4, "finasteride": 4, "dutasteride": 4, "rogaine": 2, "regaine": 2, "propecia": 4,
    "dermatologist": 5, "dermatologists": 5, "androgenetic": 5, "seborrhoea": 4, "seborrhea": 4,
    "someone": 2, "sometimes": 2, "something": 2, "somewhere": 2, "anyone": 3, "anything": 3,
    "business": 2, "different": 3, "interest": 3, "evening": 2, "evenings": 2, "vitamin": 3, "vitamins": 3,
    "ferritin": 3, "postpartum": 3, "iodine": 3, "science": 2, "quiet": 2, "diet": 2, "diets": 2,
    "riverside": 3, "clinic's": 2, "doesn't": 2, "isn't": 2, "wasn't": 2, "aren't": 1, "don't": 1,
    "can't": 1, "won't": 1, "hairline": 2, "headache": 2, "sometime": 2, "likely": 2, "lives": 1,
    "scientific": 4, "serious": 3, "various": 3, "previous": 3, "obvious": 3, "mysterious": 4,
    "real": 1, "really": 2, "reaction": 3, "reactions": 3, "fluid": 2, "poem": 2,
    "patient": 2, "patients": 2, "special": 2, "specialist": 3, "specialists": 3, "official": 3,
    "ocean": 2, "social": 2, "sure": 1, "surely": 2, "because": 2, "people": 2, "little": 2,
    "dandruff": 2, "biotin": 3, "keratin": 3, "zinc": 1, "selenium": 4, "manganese": 3,
    "potassium": 4, "calcium": 3, "amino": 3, "menstruation": 4, "breastfeeding": 3,
}

SUBTRACT = [r"cial", r"tia", r"cius", r"cious", r"giu", r"ion", r"iou", r"[^aeiou]ely$"]
ADD = [r"ia", r"riet", r"dien", r"rient", r"iu", r"io", r"ii", r"[aeiouy]ing$", r"^re[aeiou]"]


def syllables(word: str) -> int:
    """Estimated syllables of one word."""
    w = word.lower().strip("'’-")
    if not w:
        return 0
    if w in EXCEPTIONS:
        return EXCEPTIONS[w]
    if w.endswith("'s") and w[:-2] in EXCEPTIONS:
        return EXCEPTIONS[w[:-2]]
    if "-" in w:
        return sum(syllables(p) for p in w.split("-") if p)
    if any(c.isdigit() for c in w):
        return max(1, len(re.findall(r"\d+", w)))
    if len(w) <= 2:
        return 1
    base = w
    if base.endswith("'s"):
        base = base[:-2]
    if base.endswith("es") and not re.search(r"(?:[cgsxz]|ch|sh)es$", base) and len(base) > 3:
        base = base[:-1]  # "makes" -> "make" (silent e handled next)
    if base.endswith("ed") and not re.search(r"[td]ed$", base) and len(base) > 3:
        base = base[:-2]  # "asked" -> "ask"
    count = len(re.findall(r"[aeiouy]+", base))
    syllabic_le = re.search(r"[^aeiouy]le$", base) and len(base) > 3
    if base.endswith("e") and not base.endswith(("ee", "ie", "ye")) and not syllabic_le and count > 1:
        count -= 1
    for pattern in SUBTRACT:
        if re.search(pattern, base):
            count -= 1
    for pattern in ADD:
        if re.search(pattern, base):
            count += 1
    return max(1, count)


WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’\-]*")


def _clean(text: str) -> str:
    text = re.sub(r"\*\*([^*]+)\*\*", r"\1", text)  # markdown bold
    text = re.sub(r"https?://\S+", "link", text)
    text = re.sub(r"\b(?:e\.g\.|i\.e\.)", "for example", text)
    text = re.sub(r"(\d)\.(\d)", r"\1\2", text)  # 62.8% is one number, not a sentence end
    return text


def sentences(text: str) -> List[List[str]]:
    """Sentences as word lists; a line break (a list item) ends a sentence too."""
    out = []
    for part in re.split(r"[.!?;:]+(?:\s|$)|\n+", _clean(text)):
        words = WORD.findall(part)
        if words:
            out.append(words)
    return out


def fk_grade(text: str) -> float:
    """Flesch-Kincaid grade level of ``text``."""
    sents = sentences(text)
    words = [w for s in sents for w in s]
    if not words:
        return 0.0
    syl = sum(syllables(w) for w in words)
    return 0.39 * len(words) / len(sents) + 11.8 * syl / len(words) - 15.59


def _fill(text: str) -> str:
    clinic = yaml.safe_load((CONTENT / "clinic.yml").read_text(encoding="utf-8"))
    values = {**clinic_placeholders(clinic), **PLACEHOLDERS}
    return re.sub(r"{(\w+)}", lambda m: str(values.get(m.group(1), m.group(0))), text)


def _load(name: str) -> Dict:
    return yaml.safe_load((CONTENT / f"{name}.yml").read_text(encoding="utf-8")) or {}


def visitor_texts() -> Iterator[Tuple[str, str]]:
    """(where, text) for every visitor-facing text."""
    for entry_id, entry in _load("knowledge")["entries"].items():
        yield f"knowledge:{entry_id}", entry["answer"]
        for entity, values in (entry.get("variants") or {}).items():
            for value, text in values.items():
                yield f"knowledge:{entry_id}/{entity}:{value}", text
        for i, lead in enumerate(entry.get("leads") or []):
            if lead.get("text"):  # (a lead naming a message is read with the messages)
                yield f"knowledge:{entry_id}/lead:{i}", lead["text"]
    comparisons = _load("knowledge").get("comparisons") or {}
    for side, item in (comparisons.get("sides") or {}).items():
        if item.get("in_short"):
            yield f"comparison:{side}", f"{item['name']}: {item['in_short']}"
    for trial in comparisons.get("trials") or []:
        yield f"comparison_trial:{'+'.join(trial['sides'])}", trial["text"]
    for claim_id, claim in _load("claims")["claims"].items():
        yield f"claim:{claim_id}", "\n".join(claim[p].strip() for p in ("claim", "evidence", "meaning"))
    for pid, passage in _load("sources")["passages"].items():
        if passage.get("claim_note"):
            yield f"source_note:{pid}", passage["claim_note"]
    messages = _load("messages")
    for key, message in messages["messages"].items():
        yield f"message:{key}", message["text"]
    yield from _named_in_messages(messages)
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    for name, variants in (domain.get("responses") or {}).items():
        for i, variant in enumerate(variants):
            if variant.get("text"):
                yield f"domain:{name}" + (f"#{i}" if i else ""), variant["text"]


# Which triage reasons each triage outcome message names (actions/triage.py,
# ``triage_outcome``: the red flags, then the causes that need a doctor's check).
TRIAGE_MESSAGE_REASONS = {
    "triage_red_flag": ("signs", ["sudden_onset", "patches_or_clumps", "scalp_symptoms"]),
    "triage_see_doctor": ("causes", ["recent_trigger", "deficiency_or_thyroid"]),
}


def _named_in_messages(messages: Dict) -> Iterator[Tuple[str, str]]:
    """The messages that name what the visitor said, with each thing they can name."""
    texts = messages["messages"]
    for slot, item in _load("screening")["items"].items():
        advice = item["advice"][0].upper() + item["advice"][1:]
        flagged = texts["screening_flagged"]["text"].replace("{advice}", advice)
        yield f"message:screening_flagged[{slot}]", flagged.replace("{items}", item["label"])
        yield f"message:screening_unsure[{slot}]", texts["screening_unsure"]["text"].replace("{items}", item["label"])
    for reason, words in (_load("routing").get("red_flag_reasons") or {}).items():
        yield f"message:red_flag[{reason}]", texts["red_flag"]["text"].replace("{reasons}", words)
    reasons = (messages.get("fill_ins") or {}).get("triage_reasons") or {}
    for key, (placeholder, names) in TRIAGE_MESSAGE_REASONS.items():
        for name in names:
            yield f"message:{key}[{name}]", texts[key]["text"].replace("{%s}" % placeholder, reasons[name])


def grades() -> List[Tuple[str, float]]:
    return [(where, round(fk_grade(_fill(text)), 1)) for where, text in visitor_texts()]


def distribution(results: List[Tuple[str, float]]) -> Dict[str, float]:
    values = sorted(g for _, g in results)
    p90 = values[min(len(values) - 1, int(round(0.9 * (len(values) - 1))))]
    return {
        "count": len(values),
        "median": round(statistics.median(values), 1),
        "p90": p90,
        "max": values[-1],
        "over_8": sum(1 for v in values if v > MEDIAN_GRADE),
        "over_max": sum(1 for v in values if v > MAX_GRADE),
    }


def section(results: List[Tuple[str, float]]) -> str:
    d = distribution(results)
    hardest = sorted(results, key=lambda r: -r[1])[:5]
    lines = [
        SECTION,
        "",
        "Flesch-Kincaid grade of every visitor-facing text: knowledge answers and variants,",
        "claims (claim, evidence and meaning together), the notes on the article's claims,",
        "messages and domain responses, with placeholders filled in. Generated by",
        "`python scripts/reading_level.py --write`; `tests/actions/test_reading_level.py`",
        f"keeps every text at grade {MAX_GRADE:g} or lower and the median at {MEDIAN_GRADE:g} or lower.",
        "",
        "| texts | median | p90 | max | over grade 8 |",
        "|---|---|---|---|---|",
        f"| {d['count']} | {d['median']} | {d['p90']} | {d['max']} | {d['over_8']} |",
        "",
        "Hardest five: " + ", ".join(f"`{w}` {g}" for w, g in hardest) + ".",
        "",
    ]
    return "\n".join(lines)


def write_section(text: str) -> None:
    doc = QUALITY.read_text(encoding="utf-8")
    start = doc.find(SECTION + "\n")
    if start == -1:
        doc = doc.rstrip("\n") + "\n\n" + text
    else:
        nxt = doc.find("\n## ", start + len(SECTION))
        doc = doc[:start] + text + ("\n" + doc[nxt + 1 :] if nxt != -1 else "")
    QUALITY.write_text(doc, encoding="utf-8")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="update the section in docs/quality.md")
    parser.add_argument("--top", type=int, default=15, help="how many of the hardest texts to list")
    args = parser.parse_args(argv)
    results = grades()
    d = distribution(results)
    print(f"texts {d['count']}  median {d['median']}  p90 {d['p90']}  max {d['max']}  "
          f"over 8: {d['over_8']}" + (f"  over {MAX_GRADE:g}: {d['over_max']}" if MAX_GRADE != 8 else ""))
    for where, g in sorted(results, key=lambda r: -r[1])[: args.top]:
        print(f"{g:5.1f}  {where}")
    if args.write:
        write_section(section(results))
        print(f"updated {QUALITY.relative_to(ROOT)}")
    return 0 if d["max"] <= MAX_GRADE and d["median"] <= MEDIAN_GRADE else 1


if __name__ == "__main__":
    sys.exit(main())
