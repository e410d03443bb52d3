"""Running models and evaluators over samples. Knows them by their methods, not by the workflow's classes."""
