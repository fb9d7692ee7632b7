"""Promotions: vouchers (merchant- or platform-funded), flash sales and the price history behind EU
"lowest price of the previous 30 days" statements."""
