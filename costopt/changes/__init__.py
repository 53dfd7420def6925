"""From plan to change: the plan's topic-level steps as config changes (`topic_changes`),
applied through the Admin API with guard rails, audit and undo (`apply`), or written as change
sets for the tools teams already use (`export`)."""
