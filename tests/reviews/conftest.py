from tests.payments.psp import psp, psp_server  # noqa: F401  (the test PSP, a real subprocess)
