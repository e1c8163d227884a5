"""Prometheus metrics of the gateway, read from the cameras' shared counters at scrape time.

    minelight_frames_in_total{camera}          frames decoded
    minelight_frames_out_total{camera}         frames enhanced and published
    minelight_dropped_frames_total{camera}     frames decoded but never enhanced (newest frame wins)
    minelight_reconnects_total{camera}         reconnect attempts
    minelight_camera_live{camera}              1 while live, else 0
    minelight_camera_fps{camera}               enhanced frames per second (last 2 s)
    minelight_enhance_latency_seconds{camera}  histogram: decode -> encoded JPEG, in the camera process
    minelight_stream_latency_seconds{camera,view}  histogram: decode -> MJPEG frame handed to the server
    minelight_live_viewers{camera}             WebSocket viewers of the H.264 live view
    minelight_live_encoding{camera}            1 while the live view is being encoded (someone watches)
    minelight_live_frames_total{camera}        H.264 frames encoded for the live view
    minelight_live_sent_bytes_total{camera}    live-view bytes handed to viewers' connections
    minelight_stream_running{camera,stream}    1 while the stream (main, sub) is decoded and enhanced
    minelight_stream_idle{camera,stream}       1 while a substream enhances at its idle rate (nobody watches)
    minelight_stream_fps{camera,stream}        enhanced frames per second of the stream (last 2 s)
    minelight_stream_frames_out_total{camera,stream}  frames of the stream enhanced and published

The per-camera figures are those of the stream the page's grid plays: the substream if the camera has one.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from .shared import LATENCY_BUCKETS


class _SharedStatsCollector:
    def __init__(self, gateway, hubs=None):
        self.gateway, self.hubs = gateway, hubs or {}

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
        viewers = GaugeMetricFamily("minelight_live_viewers", "Viewers of the H.264 live view", labels=["camera"])
        encoding = GaugeMetricFamily("minelight_live_encoding", "1 while the live view is encoded",
                                     labels=["camera"])
        live_frames = CounterMetricFamily("minelight_live_frames", "H.264 frames encoded for the live view",
                                          labels=["camera"])
        sent = CounterMetricFamily("minelight_live_sent_bytes", "Live-view bytes handed to viewers' connections",
                                   labels=["camera"])
        running = GaugeMetricFamily("minelight_stream_running", "1 while the stream is decoded and enhanced",
                                    labels=["camera", "stream"])
        idle = GaugeMetricFamily("minelight_stream_idle", "1 while the substream enhances at its idle rate",
                                 labels=["camera", "stream"])
        stream_fps = GaugeMetricFamily("minelight_stream_fps", "Enhanced frames per second of the stream",
                                       labels=["camera", "stream"])
        stream_out = CounterMetricFamily("minelight_stream_frames_out", "Frames of the stream enhanced",
                                         labels=["camera", "stream"])
        for name, cam in self.gateway.cameras.items():
            for kind, blocks in cam.streams.items():
                each = blocks.stats.snapshot()
                running.add_metric([name, kind], each["running"])
                idle.add_metric([name, kind], each["idle"])
                stream_fps.add_metric([name, kind], each["fps"])
                stream_out.add_metric([name, kind], each["frames_out"])
            kind = "sub" if "sub" in cam.streams else "main"
            stats = cam.streams[kind].stats
            snap = stats.snapshot()
            hub = self.hubs.get((name, kind))
            viewers.add_metric([name], len(hub.viewers) if hub else 0)
            encoding.add_metric([name], snap["live_encoding"])
            live_frames.add_metric([name], snap["live_frames"])
            sent.add_metric([name], hub.sent if hub else 0)
            for key, family in families.items():
                family.add_metric([name], snap[key])
            live.add_metric([name], 1.0 if snap["state"] == "live" else 0.0)
            fps.add_metric([name], snap["fps"])
            counts, cumulative, buckets = stats.latency_counts(), 0.0, []
            for bound, count in zip([*map(str, LATENCY_BUCKETS), "+Inf"], counts):
                cumulative += count
                buckets.append((bound, cumulative))
            latency.add_metric([name], buckets, snap["latency_sum"])
        yield from (*families.values(), live, fps, latency, viewers, encoding, live_frames, sent, running, idle,
                    stream_fps, stream_out)


class MetricsExporter:
    """A registry of its own per app: the shared-counter collector and the served-frame latency."""

    def __init__(self, gateway, hubs=None):
        self.registry = CollectorRegistry()
        self.registry.register(_SharedStatsCollector(gateway, hubs))
        self.served = Histogram("minelight_stream_latency_seconds",
                                "Decoded frame to MJPEG frame handed to the server (seconds)",
                                ["camera", "view"], buckets=LATENCY_BUCKETS, registry=self.registry)

    def observe_served(self, camera: str, view: str, seconds: float) -> None:
        self.served.labels(camera, view).observe(seconds)

    def render(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
