"""Sealed audit checkpoints: the chain's head, sealed and time-stamped, kept in the database and as
files in the archive folder (AUDIT_CHECKPOINT_DIR).

The hash chain alone proves nothing against whoever holds the database: they can delete the last
events and set the head back, or recompute every hash from an event onward. A checkpoint made
before that contradicts it: the event it names is gone, or has another hash. `verify` walks the
chain as before and then holds it against every checkpoint it finds, in the database or in the
folder (a rewrite that also deletes the rows leaves the files), and names the one it contradicts.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from service.audit import service as audit
from service.audit.models import ChainHead, Checkpoint, Event
from service.db import utcnow
from service.extensions import db
from service.kernel.common import settings
from service.kernel.errors import GoalflowError
from service.signatures import seal as sealing
from service.signatures.validation import load_pem_certificates

log = logging.getLogger(__name__)

STATEMENT_KIND = "goalflow-audit-checkpoint"


def _canonical(payload: dict) -> bytes:
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def latest(chain_id: int) -> Checkpoint | None:
    return db.session.scalar(
        select(Checkpoint).where(Checkpoint.chain_id == chain_id).order_by(Checkpoint.seq.desc(), Checkpoint.id.desc())
    )


def create(chain_id: int, *, reason: str, now: datetime | None = None) -> Checkpoint | None:
    """Seal the chain's head now; None when the chain does not exist. A daily or sign-off checkpoint
    of a chain that has not moved since its last one is not repeated. Without a configured seal the checkpoint
    is kept unsealed (the embedded mode); a configured seal that fails refuses (`seal_unavailable`)."""
    now = now or utcnow()
    head = db.session.get(ChainHead, chain_id)
    if head is None:
        return None
    previous = latest(chain_id)
    if reason in ("daily", "sign_off") and previous is not None and (previous.seq, previous.hash) == (head.seq, head.hash):
        return previous
    statement = _canonical({
        "kind": STATEMENT_KIND,
        "chain": chain_id,
        "seq": head.seq,
        "hash": head.hash,
        "at": now.isoformat(timespec="seconds"),
        "reason": reason,
        "previous": previous.statement_sha256 if previous else None,
    })
    config = settings()
    seal = sealing.seal_statement(statement, config) if config.seal_configured else None
    digest = hashlib.sha256(statement).hexdigest()
    name = f"chain{chain_id}-seq{head.seq:08d}-{now:%Y%m%dT%H%M%SZ}-{digest[:12]}"
    folder = Path(config.checkpoint_dir)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.json").write_bytes(statement)
    if seal is not None:
        (folder / f"{name}.p7s").write_bytes(seal.der)
    checkpoint = Checkpoint(
        chain_id=chain_id, seq=head.seq, hash=head.hash, created_at=now, reason=reason,
        statement=statement.decode("utf-8"), statement_sha256=digest,
        seal=seal.der if seal else None, sealed_at=seal.timestamp if seal else None, file_name=name,
    )
    db.session.add(checkpoint)
    db.session.commit()
    return checkpoint


def create_all(*, reason: str = "daily", now: datetime | None = None) -> list[Checkpoint]:
    """A checkpoint of every chain (the beat's daily task)."""
    made = []
    for chain_id in db.session.scalars(select(ChainHead.chain_id).order_by(ChainHead.chain_id)).all():
        checkpoint = create(chain_id, reason=reason, now=now)
        if checkpoint is not None:
            made.append(checkpoint)
    return made


def after_sign_off(chain_id: int) -> Checkpoint | None:
    """At every sign-off; a seal that is away is logged, and the daily run makes up for it."""
    try:
        return create(chain_id, reason="sign_off")
    except GoalflowError as exc:
        db.session.rollback()
        log.warning("audit checkpoint after sign-off not made: %s", exc)
        return None


# -- verification -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Found:
    """A checkpoint as verification sees it: from the database or from a file."""

    chain_id: int
    seq: int
    hash: str
    at: str
    statement_sha256: str
    source: str  # database | file name
    sealed: bool
    seal_ok: bool | None  # None: not sealed


@dataclass
class Verdict(audit.ChainReport):
    """The link-by-link walk's report, and what the sealed checkpoints say of it."""

    checkpoint: Found | None = None  # the checkpoint the chain contradicts
    checkpoints_checked: int = 0
    latest: dict[int, Found] = field(default_factory=dict)  # per chain, the latest checkpoint that holds


def verify(chain_id: int | None = None) -> Verdict:
    """The chain walked link by link, then held against every checkpoint of it."""
    walk = audit.verify(chain_id)
    verdict = Verdict(**dataclasses.asdict(walk))
    if not walk.ok:
        return verdict
    found = _found(chain_id)
    verdict.checkpoints_checked = len(found)
    chains = sorted({f.chain_id for f in found})
    for chain in chains:
        mine = sorted((f for f in found if f.chain_id == chain), key=lambda f: f.seq, reverse=True)
        head = db.session.get(ChainHead, chain)
        head_seq = head.seq if head else 0
        hashes = dict(db.session.execute(
            select(Event.seq, Event.hash).where(Event.chain_id == chain, Event.seq.in_({f.seq for f in mine}))
        ).all())
        for checkpoint in mine:
            problem = ""
            if checkpoint.sealed and not checkpoint.seal_ok:
                problem = "its seal does not verify"
            elif checkpoint.seq > head_seq:
                problem = (f"the chain ends at event {head_seq}, but the checkpoint records event {checkpoint.seq}:"
                           " events were deleted and the head rolled back")
            elif checkpoint.seq > 0 and hashes.get(checkpoint.seq) != checkpoint.hash:
                problem = (f"event {checkpoint.seq} has another hash than the checkpoint records:"
                           " the chain was rewritten at or before it")
            if problem:
                return Verdict(
                    False, walk.events_checked, chain, checkpoint.seq, None,
                    f"checkpoint of {checkpoint.at} ({checkpoint.source}) contradicts the chain: {problem}",
                    checkpoint, len(found),
                )
        verdict.latest[chain] = mine[0]
    return verdict


def _found(chain_id: int | None) -> list[Found]:
    config = settings()
    roots = load_pem_certificates(config.SEAL_TRUST_ROOTS) if config.SEAL_TRUST_ROOTS else []
    result = []
    query = select(Checkpoint) if chain_id is None else select(Checkpoint).where(Checkpoint.chain_id == chain_id)
    for row in db.session.scalars(query):
        statement = row.statement.encode("utf-8")
        result.append(_as_found(statement, row.seal, "database", roots))
    folder = Path(config.checkpoint_dir)
    if folder.is_dir():
        for path in sorted(folder.glob("chain*.json")):
            seal_path = path.with_suffix(".p7s")
            found = _as_found(path.read_bytes(), seal_path.read_bytes() if seal_path.exists() else None, path.name,
                              roots)
            if found is not None and (chain_id is None or found.chain_id == chain_id):
                result.append(found)
    # The same statement in the row and the file is one checkpoint; a copy whose seal fails wins.
    unique: dict[str, Found] = {}
    for found in (f for f in result if f is not None):
        kept = unique.get(found.statement_sha256)
        if kept is None or (kept.seal_ok is not False and found.seal_ok is False):
            unique[found.statement_sha256] = found
    return list(unique.values())


def _as_found(statement: bytes, seal: bytes | None, source: str, roots: list) -> Found | None:
    try:
        payload = json.loads(statement)
        if payload.get("kind") != STATEMENT_KIND:
            return None
        chain, seq, digest, at = int(payload["chain"]), int(payload["seq"]), str(payload["hash"]), str(payload["at"])
    except (ValueError, KeyError, TypeError):
        log.warning("not a checkpoint statement: %s", source)
        return None
    seal_ok = None
    if seal is not None:
        check = sealing.check_statement_seal(statement, seal, roots)
        seal_ok = check.intact and check.trusted is not False
    return Found(chain, seq, digest, at, hashlib.sha256(statement).hexdigest(), source, seal is not None, seal_ok)
