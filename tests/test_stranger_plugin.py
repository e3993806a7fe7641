"""The pytest plugin speaks clearly: a marker typo names the bad keyword and the valid ones,
and an async verb called without ``await`` fails the test instead of passing on a warning."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _quiet_ini(pytester: pytest.Pytester) -> None:
    pytester.makeini(
        "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
    )


def test_a_marker_typo_names_the_keyword_and_the_valid_ones(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        import pytest

        @pytest.mark.anveo(acounts=1)
        def test_typo(anveo):
            pass

        @pytest.mark.anveo(balanse="1.00")
        def test_near_miss(anveo):
            pass
    """)
    result = pytester.runpytest("-q")
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(
        [
            "*@pytest.mark.anveo: unknown keyword 'acounts'*; valid: userkey, *balance*",
            "*unknown keyword 'balanse' (did you mean 'balance'?)*",
        ]
    )
    assert "TypeError" not in result.stdout.str()


def test_an_unawaited_async_verb_fails_the_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        import warnings
        from mock_anveo import MockAnveo

        async def test_forgot_await():
            async with MockAnveo() as anveo:
                anveo.advance(60)

        async def test_awaited():
            async with MockAnveo() as anveo:
                await anveo.advance(60)

        async def test_other_warnings_still_show():
            warnings.warn("someone else's", UserWarning)
    """)
    result = pytester.runpytest("-q")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*anveo.advance(...) was called without await*write `await anveo.advance(...)`*",
            "*someone else's*",
        ]
    )
