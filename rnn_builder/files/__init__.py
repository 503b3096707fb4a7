"""What is read and written: projects, their serialization, templates and weights files."""
