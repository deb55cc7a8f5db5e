"""Test suite package (lets tests import tests.fake_gemini)."""
