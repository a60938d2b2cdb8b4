"""HTTP routes, one module per resource: parse the request, call a service, answer a *Public model."""
