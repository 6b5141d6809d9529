"""The argument fuzzer (``fuzz_arguments.py``) on a fixed set of cases: every public function
on arbitrary array-likes and keyword values returns numpy's shapes and dtypes or raises
TypeError/ValueError with a message."""

from hypothesis import given, settings

from fuzz_arguments import SETTINGS, cases, run_case


@settings(max_examples=300, derandomize=True, **SETTINGS)
@given(cases())
def test_arbitrary_arguments_give_results_or_clear_errors(case):
    run_case(case)
