"""Running the service on one machine, as API Gateway and Lambda would run it: template.yaml's
routes, authorizer and tables, turned into HTTP API v2 events. Never shipped to Lambda (it lives
outside the layer's folder, shared/layer/)."""
