"""Shenzhen Tong's file channel."""

from gateway.partners.transit import ID
from gateway.partners.transit.exchange import TransitAckHandler, TransitReqBuilder
from gateway.services.channels import Channel

CHANNEL = Channel.of(
    ID, outbound=[TransitReqBuilder()], inbound=[TransitAckHandler()], inbound_order=("TRANSITACK",)
)
