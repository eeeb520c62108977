"""Reading and writing model directories."""
