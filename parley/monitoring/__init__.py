"""What a load balancer and a monitoring system read: /healthz, /readyz and /metrics."""
