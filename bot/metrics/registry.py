"""One registry per app (never prometheus_client's global one: tests and two apps in one process
must not share counts), with the counters and the histogram every part moves."""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import choose_encoder

from bot.metrics.gauges import DatabaseGauges

if TYPE_CHECKING:
    from bot.service import Service

# request latency, seconds: webhooks answer in milliseconds, console pages in tens of them
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    """What `rjbot serve` exposes on RJBOT_METRICS_PORT."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.inbound_total = Counter(
            "rjbot_inbound_messages", "Messages people sent, by channel and what became of them"
            " (applied, duplicate, linked, link_invalid, elsewhere_risk, elsewhere_ignored,"
            " error)", ["channel", "result"], registry=self.registry)
        self.outbound_total = Counter(
            "rjbot_outbound_messages", "Send attempts from the outbox, by channel and result"
            " (sent, retry, failed, undeliverable, opted_out)", ["channel", "result"],
            registry=self.registry)
        self.request_seconds = Histogram(
            "rjbot_http_request_duration_seconds", "HTTP requests by method, route template"
            " and status, until the response ended", ["method", "route", "status"],
            buckets=BUCKETS, registry=self.registry)
        self.gauges = DatabaseGauges()
        self.registry.register(self.gauges)

    def inbound(self, channel: str, result: str) -> None:
        self.inbound_total.labels(channel, result).inc()

    def outbound(self, channel: str, result: str) -> None:
        self.outbound_total.labels(channel, result).inc()

    def request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.request_seconds.labels(method, route, str(status)).observe(seconds)

    def attach(self, service: Service) -> None:
        """Count what this service's runtime and sender do; read its database when scraped."""
        service.runtime.on_inbound(self.inbound)
        service.sender.on_result(self.outbound)
        self.gauges.source = (service.db, service.runtime.clock)

    def detach(self) -> None:
        self.gauges.source = None

    async def exposition(self, accept: str = "") -> tuple[bytes, str]:
        """The whole registry in the format the scraper asked for (Prometheus text by
        default), with the gauges read from the database just now."""
        await self.gauges.refresh()
        encode, content_type = choose_encoder(accept)
        return encode(self.registry), content_type
