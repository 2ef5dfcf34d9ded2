"""Write a week of made-up production logs of a banking assistant, with drift injected at a known time.

    python examples/monitoring/make_week.py --out week.jsonl
    laif monitor ingest week.jsonl --stream bank-bot
    laif monitor report --stream bank-bot --out report.html

Until `--drift-at` the assistant behaves the same every hour (traffic follows the time of day).
From then on, as after a silent change of its system prompt, its answers are longer (more
output tokens, more latency, more answers cut at the token limit), it refuses more, answers a
good share of French, German and Luxembourgish questions in English, and sometimes repeats the
IBAN a customer gave. The inputs (languages asked, channel, amount) do not change, so the
inputs' drift tests should stay quiet while the outputs' fire. `--drift-at none` writes a
stream without drift. Every text below was written for this example.
"""

from __future__ import annotations

import argparse
import json
import math
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from stdnum import iban

QUESTIONS = {
    "en": ["How do I block my debit card after losing it in town?",
           "What is the fee for a transfer to an account in Germany?",
           "Can I raise the daily limit of my card for a trip abroad?",
           "When will the salary transfer show up on my current account?",
           "How can I open a savings account for my daughter online?"],
    "fr": ["Comment est-ce que je peux bloquer ma carte bancaire perdue hier soir ?",
           "Quels sont les frais pour un virement vers un compte en Belgique ?",
           "Est-ce que je peux augmenter le plafond de ma carte pour les vacances ?",
           "Quand est-ce que mon salaire sera visible sur mon compte courant ?",
           "Comment ouvrir un compte épargne pour ma fille depuis chez moi ?"],
    "de": ["Wie kann ich meine verlorene Bankkarte sofort sperren lassen?",
           "Welche Gebühren fallen für eine Überweisung nach Frankreich an?",
           "Kann ich das tägliche Limit meiner Karte für eine Reise erhöhen?",
           "Wann wird mein Gehalt auf dem Girokonto gutgeschrieben?",
           "Wie eröffne ich online ein Sparkonto für meinen Sohn?"],
    "lb": ["Wéi kann ech meng Bankkaart spären, déi ech gëschter verluer hunn?",
           "Wat kascht en Iwwerweisung op e Kont an der Belsch?",
           "Kann ech de Plafong vu menger Kaart fir d'Vakanz eropsetzen?",
           "Wéini gesinn ech meng Pai op mengem Kont?",
           "Wéi kann ech fir meng Duechter e Spuerkont opmaachen?"],
}
SENTENCES = {
    "en": ["You can do this in the mobile app under the cards menu.",
           "The change takes effect within a few minutes of your request.",
           "Our advisers are available by phone from eight in the morning.",
           "There is no fee for this service on a standard current account.",
           "Please keep your reference number until the operation is complete.",
           "You will receive a confirmation message once everything is done."],
    "fr": ["Vous pouvez le faire dans l'application mobile, dans le menu des cartes.",
           "Le changement prend effet quelques minutes après votre demande.",
           "Nos conseillers sont joignables par téléphone dès huit heures du matin.",
           "Ce service est gratuit pour un compte courant standard.",
           "Merci de garder votre numéro de référence jusqu'à la fin de l'opération.",
           "Vous recevrez un message de confirmation une fois que tout sera fait."],
    "de": ["Sie können das in der mobilen App im Menü der Karten erledigen.",
           "Die Änderung wird wenige Minuten nach Ihrem Antrag wirksam.",
           "Unsere Berater sind ab acht Uhr morgens telefonisch erreichbar.",
           "Für ein normales Girokonto ist dieser Dienst kostenlos.",
           "Bitte bewahren Sie Ihre Referenznummer bis zum Abschluss auf.",
           "Sie erhalten eine Bestätigung, sobald alles erledigt ist."],
    "lb": ["Dir kënnt dat an der App am Menü vun de Kaarten maachen.",
           "D'Ännerung gëllt e puer Minutten no Ärer Ufro.",
           "Eis Beroder sinn de Moien ab aacht Auer um Telefon ze erreechen.",
           "Fir en normale Kont kascht dëse Service näischt.",
           "Haalt w.e.g. Är Referenznummer bis d'Operatioun fäerdeg ass.",
           "Dir kritt e Message, soubal alles gemaach ass."],
}
REFUSALS = {
    "en": "I'm sorry, but I cannot help with that request here.",
    "fr": "Désolé, mais je ne peux pas répondre à cette demande ici.",
    "de": "Es tut mir leid, aber ich kann Ihnen dabei nicht helfen.",
    "lb": "Et deet mer leed, mee ech kann Iech do net hëllefen.",
}
LANGUAGES = {"en": 0.3, "fr": 0.3, "de": 0.2, "lb": 0.2}
CHANNELS = {"web": 0.5, "app": 0.4, "phone": 0.1}


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _iban(rng: random.Random) -> str:
    bban = f"{rng.randrange(10**3):03d}{rng.randrange(10**13):013d}"
    return f"LU{iban.calc_check_digits('LU00' + bban)}{bban}"


def _call(rng: random.Random, when: datetime, drifted: bool) -> dict[str, Any]:
    lang = _pick(rng, LANGUAGES)
    prompt = rng.choice(QUESTIONS[lang])
    record: dict[str, Any] = {"time": when.isoformat().replace("+00:00", "Z"), "model": "bank-assistant-3",
                              "prompt": prompt, "user_id": f"c-{rng.randrange(5000):04d}",
                              "session_id": f"s-{rng.randrange(10**8):08d}",
                              "features": {"channel": _pick(rng, CHANNELS),
                                           "amount_eur": round(math.exp(rng.gauss(4.5, 1.0)), 2)}}
    roll = rng.random()
    if roll < 0.005:
        return record | {"status": "error", "answer": None, "latency_s": round(rng.uniform(0.05, 0.3), 3)}
    if roll < 0.008:
        return record | {"status": "timeout", "answer": None, "latency_s": 30.0}
    tokens = max(8, round(rng.gauss(110 if drifted else 60, 25 if drifted else 15)))
    answer_lang = "en" if drifted and lang != "en" and rng.random() < 0.4 else lang
    if rng.random() < (0.12 if drifted else 0.03):
        answer = REFUSALS[answer_lang]
        tokens = 14
    else:
        answer = " ".join(rng.choice(SENTENCES[answer_lang]) for _ in range(max(2, tokens // 16)))
        if drifted and rng.random() < 0.03:
            answer += f" IBAN {_iban(rng)}."
    limit = rng.random() < (0.08 if drifted else 0.01)
    latency = 0.25 + 0.011 * tokens * math.exp(rng.gauss(0, 0.15))
    feedback = None
    if rng.random() < 0.2:
        feedback = 1 if rng.random() < (0.65 if drifted else 0.85) else -1
    return record | {"status": "ok", "answer": answer, "latency_s": round(latency, 3),
                     "input_tokens": len(prompt.split()) * 2 + 180, "output_tokens": tokens,
                     "finish_reason": "length" if limit else "stop", "feedback": feedback}


def write_week(out: TextIO, start: datetime, hours: int, per_hour: int, drift_at: datetime | None, seed: int) -> int:
    """Write `hours` hours of calls from `start`, about `per_hour` an hour (less at night); returns the count."""
    rng = random.Random(seed)
    written = 0
    for hour in range(hours):
        begin = start + timedelta(hours=hour)
        daytime = 0.6 + 0.4 * math.sin(math.pi * ((begin.hour - 6) % 24) / 24)
        for offset in sorted(rng.uniform(0, 3600) for _ in range(max(1, round(per_hour * daytime)))):
            when = begin + timedelta(seconds=offset)
            drifted = drift_at is not None and when >= drift_at
            out.write(json.dumps(_call(rng, when, drifted), ensure_ascii=False) + "\n")
            written += 1
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("week.jsonl"))
    parser.add_argument("--start", default="2026-11-23T00:00:00+00:00", help="First hour (ISO 8601).")
    parser.add_argument("--hours", type=int, default=7 * 24)
    parser.add_argument("--per-hour", type=int, default=300, help="Calls in a busy hour.")
    parser.add_argument("--drift-at", default="2026-11-27T12:00:00+00:00", help="When the drift starts, or none.")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    drift_at = None if args.drift_at == "none" else datetime.fromisoformat(args.drift_at).astimezone(UTC)
    with args.out.open("w", encoding="utf-8") as fh:
        n = write_week(fh, datetime.fromisoformat(args.start).astimezone(UTC), args.hours, args.per_hour, drift_at,
                       args.seed)
    print(f"wrote {n} calls to {args.out}" + (f"; drift from {drift_at.isoformat()}" if drift_at else "; no drift"))


if __name__ == "__main__":
    main()
