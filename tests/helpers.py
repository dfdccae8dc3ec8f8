"""Small helpers shared by tests."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

PASSWORD = "correct horse battery"


def build_world(slug: str = "test") -> SimpleNamespace:
    """An administration with two directorates, one person per role, and a plan open for reporting."""
    from service.extensions import db
    from service.goals.models import Activity, Goal, Indicator, Plan
    from service.org import service as org
    from service.org.models import Role

    admin = org.create_administration(name="Областна администрация Тест", slug=slug)
    a = org.create_unit(administration=admin, code="АПОФУС", name="Дирекция АПОФУС")
    b = org.create_unit(administration=admin, code="АКРРДС", name="Дирекция АКРРДС")

    def person(key, role, unit=None):
        return org.create_user(
            email=f"{key}@{slug}.bg", name=key.replace("_", " ").title(), password=PASSWORD,
            administration=admin, roles=[(role, unit)],
        )

    w = SimpleNamespace(admin=admin, a=a, b=b, password=PASSWORD)
    w.governor = person("governor", Role.GOVERNOR)
    w.deputy = person("deputy", Role.DEPUTY_GOVERNOR)
    w.secretary = person("secretary", Role.CHIEF_SECRETARY)
    w.head_a = person("head_a", Role.HEAD, a)
    w.head_b = person("head_b", Role.HEAD, b)
    w.expert_a = person("expert_a", Role.EXPERT, a)
    w.expert_b = person("expert_b", Role.EXPERT, b)
    w.observer = person("observer", Role.OBSERVER)
    w.sysadmin = person("sysadmin", Role.ADMIN)

    plan = Plan(administration_id=admin.id, year=2023, currency="BGN", state="reporting")
    db.session.add(plan)

    def goal(number, units, state, indicators=1):
        g = Goal(plan=plan, number=number, title=f"Цел {number}", state=state, units=units)
        g.indicators = [
            Indicator(position=i, name=f"Индикатор {number}.{i}", target=1, target_text="1", baseline_text="0")
            for i in range(indicators)
        ]
        g.activities = [Activity(position=0, title=f"Дейност {number}", deadline=date(2023, 12, 31))]
        db.session.add(g)
        return g

    w.plan = plan
    w.g_a = goal(1, [a], "in_progress")
    w.g_ab = goal(2, [a, b], "in_progress", indicators=2)
    w.g_b = goal(3, [b], "planned")
    db.session.commit()
    return w


def achieved_for(goal, value="1") -> dict:
    """The data a `complete` request needs: an achieved value for every indicator."""
    return {"achieved": {str(i.id): value for i in goal.indicators}}
