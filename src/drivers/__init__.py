"""drivers: what drives a Norwegian municipality's economy, against its KOSTRA peers."""

__version__ = "0.1.0"
