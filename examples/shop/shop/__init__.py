"""A small shop: the models (:mod:`shop.models`) and the migrations that build them
(``shop/migrations``)."""
