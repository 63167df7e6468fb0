"""Brochure content served by actions: the myth quiz and the field examples."""
