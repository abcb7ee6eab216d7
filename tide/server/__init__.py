"""The daemon's HTTP side (`app.StatusServer`): health, metrics, Tide's JSON, our API and
the dashboard; and the pure views they share with `tide status` / `tide explain`."""
