"""One gateway per app (its own port, the app's `url`): sign-in, access checks, forwarded identity, proxy."""
