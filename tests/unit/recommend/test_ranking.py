from services.recommend.domain.ranking import rank


def test_rank_excludes_bought_and_out_of_stock_and_breaks_ties_by_id() -> None:
    scores = {"a": 5, "b": 9, "c": 9, "d": 1, "e": 7}
    suggestions = rank(scores, purchased={"e"}, out_of_stock={"c"}, limit=3)
    assert [s.product_id for s in suggestions] == ["b", "a", "d"]


def test_rank_on_nothing_is_empty() -> None:
    assert rank({}, limit=5) == []
