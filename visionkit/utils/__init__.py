"""General helpers with no visionkit dependency: the lowest layer."""
