"""The fund's file channel."""

from gateway.partners.fund import ID
from gateway.partners.fund.exchange import DonationExpBuilder, DonationHandler
from gateway.services.channels import Channel

CHANNEL = Channel.of(
    ID, outbound=[DonationExpBuilder()], inbound=[DonationHandler()], inbound_order=("DONATION",)
)
