"""API Gateway and Lambda on one machine: events, `make serve`, `make invoke`, the OpenAPI document."""
