"""Running costopt: the command line and the APScheduler jobs that collect, analyze and report."""
