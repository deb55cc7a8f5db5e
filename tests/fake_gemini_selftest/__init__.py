"""Self-test of tests/fake_gemini."""
