"""The embedded demo: the Haskovo administration, its units, one user per role, and its 2023 report."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from service.documents import parse_document
from service.goals import service as goals
from service.org import service as org
from service.org.models import Administration, Role

HASKOVO_REPORT = Path(__file__).resolve().parent / "data" / "haskovo-2023-goals-report.txt"
ADMINISTRATION = "Областна администрация Хасково"
SLUG = "haskovo"

UNITS = [
    ("КАБИНЕТ", "Политически кабинет на областния управител", "cabinet"),
    ("АПОФУС", 'Дирекция "Административно-правно обслужване, финанси и управление на собствеността"', "directorate"),
    ("АКРРДС", 'Дирекция "Административен контрол, регионално развитие и държавна собственост"', "directorate"),
]

# email, name, role, unit code
USERS = [
    ("governor@haskovo.demo", "Областен управител (демо)", Role.GOVERNOR, None),
    ("deputy@haskovo.demo", "Заместник областен управител (демо)", Role.DEPUTY_GOVERNOR, None),
    ("secretary@haskovo.demo", "Главен секретар (демо)", Role.CHIEF_SECRETARY, None),
    ("head.apofus@haskovo.demo", "Директор АПОФУС (демо)", Role.HEAD, "АПОФУС"),
    ("head.akrrds@haskovo.demo", "Директор АКРРДС (демо)", Role.HEAD, "АКРРДС"),
    ("expert.apofus@haskovo.demo", "Експерт АПОФУС (демо)", Role.EXPERT, "АПОФУС"),
    ("expert.akrrds@haskovo.demo", "Експерт АКРРДС (демо)", Role.EXPERT, "АКРРДС"),
    ("observer@haskovo.demo", "Наблюдател (демо)", Role.OBSERVER, None),
    ("admin@haskovo.demo", "Администратор (демо)", Role.ADMIN, None),
]


def load_demo(password: str) -> Administration:
    """Idempotent: a second run finds the administration and changes nothing."""
    from service.extensions import db

    admin = db.session.scalar(select(Administration).where(Administration.slug == SLUG))
    if admin is not None:
        return admin
    admin = org.create_administration(name=ADMINISTRATION, slug=SLUG)
    org.update_administration(actor=None, administration_id=admin.id,
                              changes={"mail_from_name": ADMINISTRATION, "mail_from_address": "noreply@haskovo.demo"})
    units = {code: org.create_unit(administration=admin, code=code, name=name, kind=kind) for code, name, kind in UNITS}
    for email, name, role, unit_code in USERS:
        org.create_user(
            email=email, name=name, password=password, administration=admin,
            roles=[(role, units[unit_code] if unit_code else None)],
        )
    document = parse_document(HASKOVO_REPORT.read_bytes(), filename=HASKOVO_REPORT.name)
    goals.save_plan_document(document, administration=admin, actor=None)
    return admin
