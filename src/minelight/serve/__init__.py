"""``minelight serve``: a live enhancement gateway between cameras and a control room.

One process per camera (:mod:`.worker`) decodes, enhances and encodes; the web layer (:mod:`.app`) serves
MJPEG streams, snapshots, a page of live views, ``/healthz`` and ``/metrics`` from what they publish
(:mod:`.shared`). Configuration: :mod:`.config`.
"""
