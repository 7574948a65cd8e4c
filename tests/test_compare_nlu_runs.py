"""scripts/compare_nlu_runs.py: what a change fixed and broke between two NLU runs."""
import json

from scripts.compare_nlu_runs import compare, main, render


def _run(directory, f1s, errors):
    directory.mkdir()
    report = {intent: {"f1-score": f1, "support": 10} for intent, f1 in f1s.items()}
    report["macro avg"] = {"f1-score": sum(f1s.values()) / len(f1s)}
    report["accuracy"] = 0.9
    (directory / "intent_report.json").write_text(json.dumps(report))
    (directory / "intent_errors.json").write_text(json.dumps([
        {"text": text, "intent": true, "intent_prediction": {"name": predicted, "confidence": 0.6}}
        for text, true, predicted in errors]))
    return directory


def _pair(tmp_path):
    before = _run(tmp_path / "a", {"ask_price": 0.9, "greet": 1.0, "ask_procedure": 0.8},
                  [("how is it carried out", "ask_procedure", "ask_claim"), ("cost?", "ask_price", "greet")])
    after = _run(tmp_path / "b", {"ask_price": 0.8, "greet": 1.0, "ask_procedure": 1.0},
                 [("cost?", "ask_price", "greet"), ("what do i pay", "ask_price", "out_of_scope")])
    return before, after


def test_flips_both_ways_and_intent_changes_worst_first(tmp_path):
    result = compare(*_pair(tmp_path))
    assert result["macro"][0] < result["macro"][1]
    assert result["fixed"] == [("how is it carried out", "ask_procedure", "ask_claim")]
    assert result["broken"] == [("what do i pay", "ask_price", "out_of_scope")]
    assert [row[0] for row in result["moved"]] == ["ask_price", "ask_procedure"]  # greet did not move


def test_counts_only_prints_no_message_text(tmp_path, capsys):
    before, after = _pair(tmp_path)
    main([str(before), str(after), "--counts-only"])
    out = capsys.readouterr().out
    assert "1 messages now right, 1 now wrong" in out
    assert "ask_price" in out and "0.90 -> 0.80" in out
    assert "carried out" not in out and "what do i pay" not in out
    full = "\n".join(render(compare(before, after), counts_only=False))
    assert "'what do i pay' -> out_of_scope" in full and "'how is it carried out' was ask_claim" in full
