"""``kiosk-agent anonymize``: JSON lines in, what egress would send; dev-set targets."""

from __future__ import annotations

import io
import json
import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk_agent.commands.anonymize import anonymize_stream
from kiosk_agent.config import AnonymizerConfig
from kiosk_agent.stages.anonymize import Pseudonymizer
from tests.anonymizer_directory import DIRECTORY

REPO = Path(__file__).resolve().parents[2]
DEV_SET = REPO.parent / "shared" / "data" / "anonymizer-dev"
SCORER = REPO.parent / "shared" / "tools" / "score_anonymizer.py"


def run_stream(lines: list[str], **kwargs: bool) -> tuple[int, list[dict], str]:
    out, err = io.StringIO(), io.StringIO()
    pseudonymizer = Pseudonymizer(DIRECTORY, AnonymizerConfig())
    code = anonymize_stream(
        pseudonymizer, io.StringIO("\n".join(lines)), out, err, **kwargs
    )
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    return code, records, err.getvalue()


def test_each_line_gets_text_and_spans_with_input_offsets():
    line = json.dumps({"id": "a", "text": "Mám schůzku s Jiřím Veselým.", "lang": "cs"})
    code, records, err = run_stream([line])
    assert (code, err) == (0, "")
    assert records == [
        {
            "id": "a",
            "text": "Mám schůzku s <EMPLOYEE_1>.",
            "spans": [
                {
                    "start": 14,
                    "end": 27,
                    "label": "PERSON_EMPLOYEE",
                    "pseudonym": "<EMPLOYEE_1>",
                    "employee_id": "T10",
                }
            ],
        }
    ]


def test_ambiguous_employee_is_reported_with_all_candidate_ids():
    line = json.dumps({"id": 7, "text": "Is Pavel here?", "lang": "en"})
    _, records, _ = run_stream([line])
    assert records[0]["id"] == "7"
    assert records[0]["spans"][0]["employee_id"] == ["T14", "T18"]


def test_every_line_is_its_own_session_unless_asked():
    lines = [
        json.dumps({"id": "1", "text": "Call 603 123 456.", "lang": "en"}),
        json.dumps({"id": "2", "text": "Or 777 888 999.", "lang": "en"}),
    ]
    _, separate, _ = run_stream(lines)
    _, shared, _ = run_stream(lines, one_session=True)
    assert [r["text"] for r in separate] == ["Call <PHONE_1>.", "Or <PHONE_1>."]
    assert [r["text"] for r in shared] == ["Call <PHONE_1>.", "Or <PHONE_2>."]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "line 1: not valid JSON"),
        ('["a"]', "line 1: expected a JSON object"),
        ('{"text": "hi"}', "line 1: field 'id' missing"),
        ('{"id": "x", "text": 3}', "line 1: field 'text' missing"),
        ('{"id": "x", "text": "hi", "lang": "de"}', "line 1: field 'lang' must be"),
    ],
    ids=["not-json", "not-object", "no-id", "text-not-string", "bad-lang"],
)
def test_bad_line_is_reported_by_number_and_the_run_goes_on(line, message):
    good = json.dumps({"id": "ok", "text": "Hello.", "lang": "en"})
    code, records, err = run_stream([line, good])
    assert code == 1
    assert message in err and err.count("\n") == 1
    assert [r["id"] for r in records] == ["ok"]


def test_refused_line_sends_no_text_and_names_no_data(monkeypatch):
    monkeypatch.setattr(Pseudonymizer, "find_residue", lambda self, text, lang: "phone")
    line = json.dumps({"id": "r", "text": "Call 603 123 456.", "lang": "en"})
    code, records, err = run_stream([line])
    assert code == 1
    assert records[0]["text"] is None and records[0]["refused"] == "phone"
    assert "id r: egress refused" in err and "603" not in err


@pytest.mark.skipif(
    not SCORER.exists(), reason="../shared (dev set and scorer) not present"
)
def test_dev_set_meets_the_targets_in_both_languages():
    gold = DEV_SET / "utterances.jsonl"
    stdin = "".join(
        json.dumps({k: r[k] for k in ("id", "text", "lang")}, ensure_ascii=False) + "\n"
        for r in map(json.loads, gold.read_text(encoding="utf-8").splitlines())
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "kiosk_agent",
            "anonymize",
            "--directory",
            str(DEV_SET / "directory.json"),
        ],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    assert result.returncode == 0, result.stderr
    # The scorer runs in memory (runpy compiles without writing bytecode to ../shared).
    scorer = runpy.run_path(str(SCORER), run_name="score_anonymizer")
    gold_records = scorer["load_jsonl"](str(gold))
    preds = [json.loads(line) for line in result.stdout.splitlines()]
    groups, _, link_mode, missing, _ = scorer["score"](gold_records, preds)
    assert link_mode and missing == 0
    for lang in ("en", "cs"):
        g = groups[lang]
        assert g.rate("leak_entity")[0] <= 0.005, lang
        assert g.rate("over_salient")[0] <= 0.02, lang
        assert g.rate("link_acc")[0] >= 0.98, lang
        assert g.rate("false_link")[1] == 0, lang
