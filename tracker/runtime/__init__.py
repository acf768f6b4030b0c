"""The long-running process: `tracker run` (process), its scheduler and jobs, leadership, the crawl runner, logs."""
