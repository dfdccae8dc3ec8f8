"""The background worker: outbox delivery, reminder sweeps and quarterly campaigns."""
