"""scripts/nlu_dev_split.py: the development split is disjoint and complete."""
import subprocess
import sys
from pathlib import Path

import pytest

from scripts.nlu_dev_split import ROOT, examples, key


def test_the_split_holds_out_the_first_set_and_loses_nothing(tmp_path):
    if subprocess.run(["git", "-C", str(ROOT), "cat-file", "-e", "d9913e8"], capture_output=True).returncode:
        pytest.skip("git history without commit d9913e8 (shallow clone)")
    subprocess.run([sys.executable, str(ROOT / "scripts" / "nlu_dev_split.py"), str(tmp_path)], check=True)
    train = examples((tmp_path / "train" / "nlu.yml").read_text())
    dev = examples((tmp_path / "dev.yml").read_text())
    everything = [p for f in sorted((ROOT / "data" / "nlu").glob("*.yml")) for p in examples(f.read_text())]
    assert len(dev) > 500
    assert not {key(s) for _, s in train} & {key(s) for _, s in dev}
    assert sorted(train + dev) == sorted(everything)
    blind = {key(s) for f in Path(ROOT / "tests" / "nlu").glob("*.yml") for _, s in examples(f.read_text())}
    assert not blind & {key(s) for _, s in dev}  # the blind set plays no part
