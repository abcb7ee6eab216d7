"""The simulated GitHub's REST API: endpoints with GitHub's paths, status codes and bodies, and the
GitHub App endpoints."""
