"""kiosk-agent: the reception-kiosk daemon that keeps every recording on the box."""

__version__ = "0.1.0"
