"""``svcard sandbox serve``: the sandbox partners on their own, in the foreground.

The servers start on loopback ports; then, every ``interval`` seconds, one round: every
past business date not yet closed is closed (the partners' whole day and its files) and
what SVA has put in the inboxes so far is read and acknowledged. The simulated business
date is today's Beijing date, or, with ``start`` and ``days_per_round``, a date of its own
that advances that many days each round (a month of partner life in a few minutes).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date, timedelta

from sandbox.clock import beijing_today
from sandbox.world import World


class SimClock:
    """The business date the sandbox lives on: the real Beijing date by default."""

    def __init__(self, start: date | None = None, days_per_round: int = 0) -> None:
        self.current = start
        self.days_per_round = days_per_round

    def today(self) -> date:
        return self.current if self.current is not None else beijing_today()

    def advance(self) -> None:
        if self.current is not None and self.days_per_round:
            self.current += timedelta(days=self.days_per_round)


def banner(world: World) -> str:
    """What a gateway needs, for an operator to read or a script to copy."""
    lines = [f"sandbox partners in {world.root} (seed {world.seed})", ""]
    for e in world.endpoints():
        lines.append(f"{e.partner:7} {e.url}")
        lines.append(f"        certificate  {e.cert_path}")
        if e.known_hosts_path is not None:
            lines.append(f"        host key     {e.known_hosts_path}")
            lines.append(f"        folders      {world.root / e.partner}/inbox, outbox")
        else:
            lines.append(f"        WS-Security  user {e.username}, password in the settings below")
    lines += ["", "gateway settings (also in export/gateway.env):"]
    lines += [f"  export {k}={v}" for k, v in world.gateway_env().items()]
    lines += ["", "pin the partners once (also in export/commands.sh):"]
    lines += [f"  {c}" for c in world.trust_commands()]
    return "\n".join(lines)


def serve(
    world: World,
    *,
    interval: float,
    clock: SimClock | None = None,
    say: Callable[[str], None] = print,
    stop: threading.Event | None = None,
    rounds: int | None = None,
) -> None:
    """Start the servers, print the banner, run rounds until ``stop`` is set (or Ctrl-C,
    or ``rounds`` rounds have run), then stop the servers."""
    clock = clock or SimClock()
    stop = stop or threading.Event()
    world.start()
    try:
        say(banner(world))
        done = 0
        while not stop.is_set():
            today = clock.today()
            closed = world.catch_up(today)
            if closed:
                say(f"business date {today:%Y-%m-%d}: closed {', '.join(f'{d:%Y%m%d}' for d in closed)}")
            done += 1
            if rounds is not None and done >= rounds:
                break
            stop.wait(interval)
            clock.advance()
    except KeyboardInterrupt:
        say("stopping")
    finally:
        world.close()
