"""New exemption requests and slippage notices, and replies about any item answered by reply: wired into
the router and the schedule (chasing every kind the registry chases)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from app.requests.decisions import handle_auto_reply, handle_reply
from app.requests.exemption import handle_exemption
from app.requests.slippage import handle_slippage
from app.requests.waiting import chase_waiting_approvers
from inbox.classify import Kind

if TYPE_CHECKING:  # for annotations only: app.context imports the app's modules, not the reverse
    from app.context import Context


def register(ctx: Context) -> None:
    """Claim exemption requests, slippage notices, replies about them, and approvers' out-of-office."""
    ctx.router.register(Kind.EXEMPTION, handle_exemption)
    ctx.router.register(Kind.SLIPPAGE, handle_slippage)
    ctx.router.register(Kind.REPLY, handle_reply)
    ctx.router.register(Kind.AUTO_REPLY, handle_auto_reply)
    ctx.scheduled.append(chase_waiting_approvers)
