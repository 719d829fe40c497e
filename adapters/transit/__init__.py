"""Shenzhen Tong's files (transit.md) as pure translation: TRANSITREQ records from
requests, TRANSITACK records as answers."""
