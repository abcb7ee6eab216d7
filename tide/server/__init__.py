"""The daemon's HTTP side (`app.StatusServer`): health, metrics, the webhook endpoint, who may
read, and the routes that serve the views of `tide.views` as Tide's JSON, our API and the
dashboard."""
