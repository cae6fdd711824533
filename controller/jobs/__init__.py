"""The scheduler and the scheduled jobs."""
