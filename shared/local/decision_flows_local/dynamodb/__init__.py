"""DynamoDB and its stream for local runs: the embedded moto store, its strictness, the stream poller."""
