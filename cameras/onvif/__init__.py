"""ONVIF: WS-Discovery (``discovery``) and device onboarding (``device``)."""
