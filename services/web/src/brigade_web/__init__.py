"""Brigade's `web` component: serves the single-page app and, locally, routes `/api/<svc>` like the ingress."""
