"""The demo plays a whole month through the real daemon and tells the story of what happened."""
import main


def test_the_demo_plays_december_and_ends_with_the_status(tmp_path, capsys):
    assert main.main(["demo", str(tmp_path / "demo")]) == 0
    out = capsys.readouterr().out
    assert "Neil submits at 23:59 on the last day" in out
    assert "neil.ashdown@wexcombe.example: [AUD-2026-12-014] Received: your audit counts for December 2026" in out
    assert "yvonne.carr@wexcombe.example: [AUD-2026-12-015] Received after the deadline: not counted" in out
    assert "Remedial action needed" in out
    assert "Your audit could not be recorded" in out
    # The out-of-office and the outsider get nothing back: their steps list no letter.
    lines = out.splitlines()
    for event in ("out-of-office answers her reminder", "someone outside the council writes in"):
        after = lines[lines.index(next(l for l in lines if event in l)) + 1]
        assert "->" not in after
    assert "All services" in out and "38.9%" in out
    sent = list((tmp_path / "demo" / "mailbox" / "sent" / "new").iterdir())
    assert len(sent) > 60
    assert str(tmp_path / "demo" / "mailbox" / "sent") in out


def test_the_demo_replaces_its_own_folder_but_never_anything_else(tmp_path, capsys):
    assert main.main(["demo", str(tmp_path / "demo")]) == 0
    assert main.main(["demo", str(tmp_path / "demo")]) == 0
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    assert main.main(["demo", str(precious)]) != 0
    assert (precious / "notes.txt").read_text() == "keep me"
    assert "not a demo folder" in capsys.readouterr().err
