import pytest

# The kit's scenarios live outside test modules: without this their failed asserts say nothing about the values.
pytest.register_assert_rewrite("tests.venues.kit")
