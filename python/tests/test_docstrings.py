"""Every docstring example runs and prints what it says."""

import doctest

import occam


def test_docstring_examples():
    result = doctest.testmod(occam, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 8
    assert result.failed == 0
