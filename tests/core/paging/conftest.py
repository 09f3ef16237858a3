"""The pager contract is a plain module: have pytest explain its failed asserts too."""

import pytest

pytest.register_assert_rewrite("tests.core.paging.contract")
