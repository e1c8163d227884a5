import pytest

from minelight.data.splits import SICE_SPLITS, parse_files, sice_split


def test_splits_cover_sice_without_overlap():
    names = [sice_split(n) for n in range(1, 2003)]
    assert names.count("test") == 402 and names.count("val") == 200 and names.count("train") == 1400


def test_training_files_are_never_test_files():
    first, last = parse_files("train")
    assert all(sice_split(n) != "test" for n in range(first, last + 1))
    assert all(sice_split(n) == "test" for n in range(1601, 2003))


def test_out_of_range_and_unknown_split_are_errors():
    with pytest.raises(ValueError, match="2002"):
        sice_split(2003)
    for bad in ("holdout", "9-3", "1-", "a-b"):
        with pytest.raises(ValueError, match="--files"):
            parse_files(bad)
    assert parse_files("1401-1600") == parse_files("val") == (1401, 1600)
    assert set(SICE_SPLITS) == {"train", "val", "test"}


def test_tuning_files_refuse_any_range_that_reaches_the_test_split():
    from minelight.data.splits import tuning_files

    assert tuning_files("val") == (1401, 1600) and tuning_files("train") == (1, 1400)
    assert tuning_files("1-1600") == (1, 1600)
    for bad in ("test", "1-2002", "1600-1601", "1700-1800", "2002-2002"):
        with pytest.raises(ValueError, match="test split"):
            tuning_files(bad)
    with pytest.raises(ValueError, match="--files"):
        tuning_files("9-3")
