"""Sealed audit checkpoints catch what the hash chain alone cannot: whoever holds the database
deleting the last events and rolling the head back, or recomputing every hash from an event onward."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import delete, select, update

from service.approvals import service as approvals
from service.audit import checkpoints
from service.audit import service as audit
from service.audit.models import ChainHead, Checkpoint, Event
from service.extensions import db
from tests.helpers import achieved_for


def drive(world):
    request = approvals.request_transition(actor=world.expert_a, subject_type="goal", subject_id=world.g_a.id,
                                           transition="complete", data=achieved_for(world.g_a))
    approvals.decide(actor=world.head_a, request_id=request.id, verdict="approve")
    approvals.decide(actor=world.governor, request_id=request.id, verdict="approve")


def events(world) -> list[Event]:
    return db.session.scalars(select(Event).where(Event.chain_id == world.admin.id).order_by(Event.seq)).all()


def roll_back_the_tail(world, keep: int) -> None:
    """Delete every event after the first `keep` and set the head back: the chain walk finds nothing."""
    kept = events(world)[keep - 1]
    db.session.execute(delete(Event).where(Event.chain_id == world.admin.id, Event.seq > keep))
    db.session.execute(update(ChainHead).where(ChainHead.chain_id == world.admin.id).values(seq=keep, hash=kept.hash))
    db.session.commit()


def rewrite_from(world, seq: int) -> None:
    """Change event `seq` and recompute its hash and every later one, and the head."""
    prev = audit.GENESIS
    for event in events(world):
        if event.seq < seq:
            prev = event.hash
            continue
        if event.seq == seq:
            event.reason = "подправено"
        event.prev_hash = prev
        event.hash = audit._digest(event)
        prev = event.hash
    head = db.session.get(ChainHead, world.admin.id)
    head.hash = prev
    db.session.commit()


def test_deleting_the_last_events_and_rolling_the_head_back_is_detected(configured):
    drive(configured)
    checkpoint = checkpoints.create(configured.admin.id, reason="daily")
    assert checkpoints.verify().ok

    roll_back_the_tail(configured, keep=checkpoint.seq - 2)

    assert audit.verify().ok  # the plain chain walk is fooled
    verdict = checkpoints.verify()
    assert not verdict.ok and verdict.chain_id == configured.admin.id
    assert verdict.checkpoint.seq == checkpoint.seq and verdict.checkpoint.hash == checkpoint.hash
    assert "deleted" in verdict.problem and f"ends at event {checkpoint.seq - 2}" in verdict.problem


def test_recomputing_the_hashes_from_an_event_onward_is_detected(configured):
    drive(configured)
    checkpoint = checkpoints.create(configured.admin.id, reason="daily")
    rewrite_from(configured, seq=3)

    assert audit.verify().ok  # every link matches again
    verdict = checkpoints.verify()
    assert not verdict.ok and verdict.seq == checkpoint.seq
    assert "another hash" in verdict.problem and verdict.checkpoint.statement_sha256 == checkpoint.statement_sha256


def test_the_files_remain_when_the_rows_are_deleted_too(configured):
    drive(configured)
    name = checkpoints.create(configured.admin.id, reason="daily").file_name
    rewrite_from(configured, seq=2)
    db.session.execute(delete(Checkpoint))
    db.session.commit()

    verdict = checkpoints.verify()
    assert not verdict.ok and verdict.checkpoint.source == f"{name}.json"


def test_a_forged_sealed_checkpoint_file_does_not_verify(sealed, tmp_path):
    drive(sealed)
    checkpoint = checkpoints.create(sealed.admin.id, reason="daily")
    assert checkpoint.seal is not None
    rewrite_from(sealed, seq=2)
    # the forger also rewrites the statement (in the file and the row) to the new head
    head = db.session.get(ChainHead, sealed.admin.id)
    path = Path(sealed.settings.checkpoint_dir) / f"{checkpoint.file_name}.json"
    forged = json.loads(path.read_bytes())
    forged["hash"] = head.hash
    path.write_bytes(json.dumps(forged, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode())
    checkpoint.statement, checkpoint.hash = path.read_text(), head.hash
    db.session.commit()

    verdict = checkpoints.verify()
    assert not verdict.ok and "seal does not verify" in verdict.problem


def test_the_daily_checkpoint_is_not_repeated_while_the_chain_stands_still(configured):
    first = checkpoints.create_all()
    again = checkpoints.create_all()
    assert [c.id for c in again] == [c.id for c in first]
    drive(configured)
    moved = checkpoints.create_all()
    assert moved[0].seq > first[0].seq and json.loads(moved[0].statement)["previous"] == first[0].statement_sha256


def test_verify_audit_names_the_checkpoint_it_contradicts(configured, ctx):
    drive(configured)
    checkpoint = checkpoints.create(configured.admin.id, reason="daily")
    runner = ctx.test_cli_runner()
    ok = runner.invoke(args=["verify-audit"])
    assert ok.exit_code == 0 and "1 checkpoints" in ok.output and checkpoint.statement_sha256 in ok.output
    rewrite_from(configured, seq=1)
    broken = runner.invoke(args=["verify-audit"])
    assert broken.exit_code == 1 and "BROKEN" in broken.output and checkpoint.statement_sha256 in broken.output


def test_the_admin_check_names_the_checkpoint_it_contradicts(configured, client):
    from tests.web.test_pages import login

    drive(configured)
    checkpoint = checkpoints.create(configured.admin.id, reason="daily")
    login(client, configured.sysadmin, configured.password)
    page = client.get("/admin/audit?check=1").text
    assert 'data-ok="yes"' in page and checkpoint.statement_sha256 in page
    roll_back_the_tail(configured, keep=checkpoint.seq - 1)
    page = client.get("/admin/audit?check=1").text
    assert 'data-ok="no"' in page and 'id="audit-contradicted"' in page and checkpoint.statement_sha256 in page
