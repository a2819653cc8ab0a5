"""The periodic fixity audit task, queued by ``celery -A archiver beat`` when
``ARCHIVER_AUDIT_INTERVAL`` is set (the schedule is in ``celeryconfig``)."""

from __future__ import annotations

from typing import Any

from archiver import runtime
from archiver.audit.periodic import run_periodic
from archiver.celery_app import app


# Acknowledged when it starts (not late): an audit may run longer than RabbitMQ's delivery
# acknowledgement timeout, and one lost to a dying worker is simply run again next interval.
@app.task(name="archiver.audit.periodic", acks_late=False)
def periodic_audit() -> dict[str, Any]:
    """Audit every archived dataset read-only; fails with the counts when anything is found."""
    return run_periodic(runtime.client(), runtime.storage(), runtime.settings().audit_sample)
