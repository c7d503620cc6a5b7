"""Early warning: spikes in a watchlist's daily counts, events, and alert delivery."""
