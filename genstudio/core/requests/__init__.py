"""Work for the thread that owns the model, as plain data: interactive render and encode requests (a channel each, newest wins) and long tasks run with a TaskState."""
