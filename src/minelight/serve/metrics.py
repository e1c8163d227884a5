"""Prometheus metrics of the gateway, read from the cameras' shared counters at scrape time.

    minelight_frames_in_total{camera}          frames decoded
    minelight_frames_out_total{camera}         frames enhanced and published
    minelight_dropped_frames_total{camera}     frames decoded but never enhanced (newest frame wins)
    minelight_reconnects_total{camera}         reconnect attempts
    minelight_camera_live{camera}              1 while live, else 0
    minelight_camera_fps{camera}               enhanced frames per second (last 2 s)
    minelight_enhance_latency_seconds{camera}  histogram: decode -> encoded JPEG, in the camera process
    minelight_stream_latency_seconds{camera,view}  histogram: decode -> MJPEG frame handed to the server
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from .shared import LATENCY_BUCKETS


class _SharedStatsCollector:
    def __init__(self, gateway):
        self.gateway = gateway

    def collect(self):
        families = {
            "frames_in": CounterMetricFamily("minelight_frames_in", "Frames decoded", labels=["camera"]),
            "frames_out": CounterMetricFamily("minelight_frames_out", "Frames enhanced and published",
                                              labels=["camera"]),
            "dropped": CounterMetricFamily("minelight_dropped_frames", "Frames decoded but never enhanced",
                                           labels=["camera"]),
            "reconnects": CounterMetricFamily("minelight_reconnects", "Reconnect attempts", labels=["camera"]),
        }
        live = GaugeMetricFamily("minelight_camera_live", "1 while the camera is live", labels=["camera"])
        fps = GaugeMetricFamily("minelight_camera_fps", "Enhanced frames per second", labels=["camera"])
        latency = HistogramMetricFamily("minelight_enhance_latency_seconds",
                                        "Decoded frame to encoded enhanced JPEG (seconds)", labels=["camera"])
        for name, cam in self.gateway.cameras.items():
            snap = cam.stats.snapshot()
            for key, family in families.items():
                family.add_metric([name], snap[key])
            live.add_metric([name], 1.0 if snap["state"] == "live" else 0.0)
            fps.add_metric([name], snap["fps"])
            counts, cumulative, buckets = cam.stats.latency_counts(), 0.0, []
            for bound, count in zip([*map(str, LATENCY_BUCKETS), "+Inf"], counts):
                cumulative += count
                buckets.append((bound, cumulative))
            latency.add_metric([name], buckets, snap["latency_sum"])
        yield from (*families.values(), live, fps, latency)


class MetricsExporter:
    """A registry of its own per app: the shared-counter collector and the served-frame latency."""

    def __init__(self, gateway):
        self.registry = CollectorRegistry()
        self.registry.register(_SharedStatsCollector(gateway))
        self.served = Histogram("minelight_stream_latency_seconds",
                                "Decoded frame to MJPEG frame handed to the server (seconds)",
                                ["camera", "view"], buckets=LATENCY_BUCKETS, registry=self.registry)

    def observe_served(self, camera: str, view: str, seconds: float) -> None:
        self.served.labels(camera, view).observe(seconds)

    def render(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
