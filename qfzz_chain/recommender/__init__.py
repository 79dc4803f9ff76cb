"""Music recommendation: collaborative, content and hybrid models with explanations and fairness.

The I/O edge is :mod:`qfzz_chain.recommender.data`; models are small fitted objects that score
listening histories (:mod:`qfzz_chain.recommender.models`).
"""
