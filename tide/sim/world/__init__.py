"""The in-memory GitHub that both APIs serve: repositories, git, pull requests, statuses, CI,
Apps, webhooks and the journal of what happened. No HTTP here."""
