"""Parley's own API (/api/v1/, OpenAPI 3): read and answer buyer messages, webhooks, operator upserts."""
