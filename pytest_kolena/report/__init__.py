"""What a run tells a person: failure texts and the end-of-session summary."""
