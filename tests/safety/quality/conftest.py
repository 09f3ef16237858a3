from tests.safety.review.factories import cast, platform, session  # noqa: F401
