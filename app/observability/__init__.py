"""Metrics (Prometheus) and traces (OpenTelemetry): README "Metrics" and "Tracing". Logs are
app/logging_config.py."""
