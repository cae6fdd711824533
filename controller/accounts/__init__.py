"""Users, passwords, sessions, the training gate and the role table."""
