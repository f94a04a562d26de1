"""Side-by-side benchmarks of Dash's Flask, Quart and FastAPI backends and dash_quart."""
