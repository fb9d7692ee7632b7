"""Creators' commissions: rates, accrual on paid orders, reversal on refunds, payable after the return window."""
