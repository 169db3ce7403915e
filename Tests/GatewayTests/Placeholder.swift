// Placeholder until the first test file lands.
