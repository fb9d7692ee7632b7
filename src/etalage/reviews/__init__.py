"""Reviews: verified-purchase ratings with text and photos, one reply by the merchant, reports and
moderation, and the quality signals per product and merchant that the feed reads."""
