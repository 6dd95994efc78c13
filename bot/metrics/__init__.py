"""Prometheus metrics: counters moved by the runtime and the sender, request latency from the
access log middleware, and gauges read from the database when scraped (issue 20).

Labels hold only codes we chose (channel, result, route template, alert and job kinds), never
an address, a chat id, a name or a word anyone wrote.
"""

from bot.metrics.registry import Metrics

__all__ = ["Metrics"]
