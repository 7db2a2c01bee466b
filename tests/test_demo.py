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
    assert "[EXM-2026-12-001] Exemption request approved" in out
    assert "[SLP-2026-12-001] Slippage agreed" in out
    assert "Tariq submits within his agreed date" in out
    assert "tariq.mahmood@wexcombe.example: [AUD-2026-12-017] Received: your audit counts" in out
    header = next(line for line in lines if line.endswith("Completion"))
    # The rows are services (once "Context", after a rename swept too wide), and the columns use the
    # report's words: "Counted" includes agreed later dates, "Not counted" came after the deadline.
    assert header.split()[0] == "Service" and "Counted" in header and "Not counted" in header
    overall = next(line for line in lines if line.startswith("All services")).split()
    assert overall[2:] == ["18", "8", "1", "8", "1", "47.1%"]  # allocated, counted, not counted, outstanding, exempt
    sent = list((tmp_path / "demo" / "mailbox" / "sent" / "new").iterdir())
    assert len(sent) > 60
    assert str(tmp_path / "demo" / "mailbox" / "sent") in out
    # The hint to see the month again carries the demo's clock: without it `status` shows the machine's day.
    hint = out.split("`")[-2]
    assert hint.endswith(" --now 2027-01-06T16:00 status")
    assert main.main(hint.split()[1:]) == 0
    again = capsys.readouterr().out
    assert again.startswith("December 2026: deadline 23:59 on Thursday 31st December 2026 (passed)")
    assert "01 Jan 00:01  late submission (not counted): AUD-2026-12-015" in again


def test_the_demo_replaces_its_own_folder_but_never_anything_else(tmp_path, capsys):
    assert main.main(["demo", str(tmp_path / "demo")]) == 0
    assert main.main(["demo", str(tmp_path / "demo")]) == 0
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    assert main.main(["demo", str(precious)]) != 0
    assert (precious / "notes.txt").read_text() == "keep me"
    assert "not a demo folder" in capsys.readouterr().err
