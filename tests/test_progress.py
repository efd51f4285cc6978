"""Long analyses say how far they have got (whuffie.progress), and the CLI shows it."""

from __future__ import annotations

from whuffie.progress import reporting


def test_niches_and_seeds_report_their_phases(sample_store):
    heard: list[tuple] = []
    with reporting(lambda *event: heard.append(event)):
        sample_store.niches()
        sample_store.seeds(3, prob=0.1, runs=200)
    said = [what for what, _, _ in heard]
    assert said[0].startswith("Infomap on ") and "betweenness" in said and "profiles" in said
    resolutions = [(done, total) for what, done, total in heard if what.startswith("Leiden at resolution")]
    assert resolutions[:9] == [(i, 9) for i in range(9)]
    assert "IMM" in said and "CELF" in said
    simulated = [(what, done, total) for what, done, total in heard if what.startswith("simulating")]
    # Blocks of runs, every seed set in each: progress is runs done out of runs at most.
    what, done, total = simulated[0]
    assert what.endswith("seed sets, runs 1-200") and (done, total) == (0, 200)
    # Nobody listening: nothing recorded, nothing breaks.
    heard.clear()
    sample_store.seeds(3, prob=0.1, runs=200, fresh=True)
    assert heard == []


def test_the_map_refuses_a_missing_folder_before_any_work(sample_store, tmp_path):
    import pytest

    from whuffie.errors import WhuffieError

    heard: list[tuple] = []
    with reporting(lambda *event: heard.append(event)), pytest.raises(WhuffieError, match="does not exist"):
        sample_store.map(tmp_path / "no" / "such" / "map.html")
    assert heard == [] and not (tmp_path / "no").exists()
