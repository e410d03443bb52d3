"""Binary classification on scikit-learn's bundled Breast Cancer Wisconsin (Diagnostic) data: two classifiers
against thresholds and against each other (champion and challenger). See README.md beside this file."""
