"""Health for the proxy and the operator: /healthz (the process answers), /readyz (it can do its work)."""
