"""Dataset ids with a size (``imdb~5000``, ``imdb~all``): parsed once, checked against the catalogue."""

from __future__ import annotations

import pytest

from model import datasets, prepare
from services import datasets as ids
from services.validation import InvalidInput
from serving import warmup


def test_size_ids_parse_into_their_parts() -> None:
    assert ids.parse("imdb") == ids.DatasetId("builtin", "imdb", "lstm", None)
    assert ids.parse("imdb~all") == ids.DatasetId("builtin", "imdb", "lstm", "all")
    assert ids.parse("reuters@gru~5000") == ids.DatasetId("builtin", "reuters", "gru", 5000)
    for text in ("imdb", "imdb~all", "imdb~5000", "reuters@gru", "reuters@gru~all"):
        assert ids.parse(text).id == text
    with pytest.raises(InvalidInput):
        ids.parse("imdb~0")
    with pytest.raises(InvalidInput):
        ids.parse("imdb~-5")


def test_the_boundary_hands_on_the_parsed_id_which_still_reads_as_the_string() -> None:
    import json
    import pickle

    checked = ids.check_dataset("reuters@gru~all", prepare.DATASETS)
    assert isinstance(checked, ids.DatasetId)
    assert (checked.source, checked.name, checked.cell_type, checked.size) == (
        "builtin",
        "reuters",
        "gru",
        "all",
    )
    assert checked == "reuters@gru~all" and hash(checked) == hash("reuters@gru~all")
    assert json.dumps([checked]) == '["reuters@gru~all"]' and type(checked.id) is str
    again = pickle.loads(pickle.dumps(checked))
    assert again.cell_type == "gru" and again.size == "all"
    with pytest.raises(AttributeError):
        checked.size = 5000
    assert ids.parse(checked) is checked  # parsed once


def test_only_the_offered_sizes_pass_the_boundary() -> None:
    catalogue = prepare.DATASETS
    assert ids.check_dataset("imdb~all", catalogue) == "imdb~all"
    assert ids.check_dataset("imdb~5000", catalogue) == "imdb~5000"
    for bad in ("imdb~4999", "imdb~9999999", "reuters~5000", "imdb~all~all", "imdb~", "imdb~ALL"):
        with pytest.raises(InvalidInput):
            ids.check_dataset(bad, catalogue)


def test_the_dataset_list_offers_every_size_default_first() -> None:
    options = ids.choices(prepare.DATASETS)
    values = [o["value"] for o in options]
    assert values == ["imdb", "imdb~5000", "imdb~all", "reuters"]
    labels = dict((o["value"], o["label"]) for o in options)
    assert labels["imdb~all"].endswith("all 25,000 reviews")
    assert labels["imdb"].endswith("1,000 reviews")
    assert ids.label_of("imdb~5000", prepare.DATASETS) == labels["imdb~5000"]


def test_the_pipeline_reads_the_size_from_the_id(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RNNX_PROFILE", "full")
    assert prepare.split_variant("imdb@gru~all") == ("imdb", "gru")
    assert prepare.default_sequences("imdb") == 1000
    assert prepare.default_sequences("imdb~5000") == 5000
    assert prepare.default_sequences("imdb~all") == 25000
    assert prepare.variant_id("imdb~all", "gru") == "imdb@gru~all"
    assert prepare.variant_id("imdb@gru~5000", "lstm") == "imdb~5000"
    # The same artefacts, whichever way the whole split is named.
    assert prepare._keys("imdb~all", None, "pca") == prepare._keys("imdb", 25000, "pca")
    assert prepare._keys("imdb~5000", None) != prepare._keys("imdb", None)


@pytest.mark.heavy
def test_test_sizes_match_the_archives() -> None:
    for name, facts in prepare.DATASETS.items():
        assert len(datasets.load(name).test.texts) == facts["test_size"]


def test_the_warm_up_prepares_size_ids_with_their_size() -> None:
    lines = warmup.commands(["imdb", "imdb~all"])
    assert lines[0][3:] == ["--dataset", "imdb", "--json"]
    assert lines[1][3:] == ["--dataset", "imdb", "--sequences", "all", "--json"]


def test_the_other_cell_type_is_compared_on_the_same_reviews() -> None:
    from services.analysis import other_cell_id

    class Unrecorded:
        summary: dict = {}

    assert other_cell_id("imdb~5000", Unrecorded()) == ("lstm", "imdb@gru~5000")
    assert other_cell_id("imdb@gru~all", Unrecorded()) == ("gru", "imdb~all")
    assert other_cell_id("reuters", Unrecorded()) == ("lstm", "reuters@gru")
