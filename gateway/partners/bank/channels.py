"""The bank's file channel: what we send it and what we apply from it."""

from gateway.partners.bank import ID
from gateway.partners.bank.events import CardResultHandler, CardStatusHandler
from gateway.partners.bank.exchange import CardOrderBuilder, CardReqBuilder
from gateway.services.channels import Channel
from gateway.services.swipes import SwipeHandler

CHANNEL = Channel.of(
    ID,
    outbound=[CardOrderBuilder(), CardReqBuilder()],
    inbound=[CardResultHandler(), CardStatusHandler(), SwipeHandler()],
    # bank.md "Order across files": results before card events before swipes
    inbound_order=("CARDRESULT", "CARDSTATUS", "SWIPE"),
)
