"""The roster is read once per process, yet a re-imported roster is seen at once, even before it is folded."""
from db.roster import RosterRepo
from db.store import Store
from workflows.roster import Person

ANN = Person("ann.hughes@wexcombe.example", "Ann Hughes", ("auditor",), "Children in Care", "")
BEN = Person("ben.hartley@wexcombe.example", "Ben Hartley", ("auditor",), "Children in Care", "")


def import_roster(store: Store, people: list[Person]) -> None:
    with store.transaction():
        RosterRepo(store).replace(people)


def test_a_reimported_roster_is_seen_by_the_next_read_in_the_same_process(tmp_path):
    with Store(tmp_path, create=True, logged=True) as store:
        import_roster(store, [ANN])
    with Store(tmp_path, logged=True) as store:
        assert RosterRepo(store).all() == [ANN]
        assert RosterRepo(store).get(" Ann.Hughes@wexcombe.example ") == ANN
        import_roster(store, [BEN])  # only in the log so far: never answered from what was kept
        assert RosterRepo(store).all() == [BEN] and RosterRepo(store).get(ANN.email) is None
    with Store(tmp_path, writer=False, logged=True) as store:
        assert RosterRepo(store).all() == [BEN]


def test_an_unchanged_roster_is_not_read_again(tmp_path, monkeypatch):
    with Store(tmp_path, create=True, logged=True) as store:
        import_roster(store, [ANN, BEN])
    with Store(tmp_path, logged=True) as store:
        assert RosterRepo(store).all() == [ANN, BEN]
    with Store(tmp_path, logged=True) as store:
        repo = RosterRepo(store)
        monkeypatch.setattr(repo._table, "all", lambda: (_ for _ in ()).throw(AssertionError("read again")))
        assert repo.all() == [ANN, BEN] and repo.get(BEN.email) == BEN
