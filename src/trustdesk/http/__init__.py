"""The HTTP base every domain's routers stand on: request dependencies (`deps`), problem
details (`problems`), pagination, page rendering, the middleware (limits, observability,
OpenAPI, log redaction) and the typed `Container`. It imports only `trustdesk.core`; the app
factory and the container's builders are the top (`trustdesk.web`)."""
