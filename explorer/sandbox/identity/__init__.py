"""Who is who: the workspace's OAuth server (OIDC metadata, sign-in page, the four token grants),
token signing, the stand-in external IdP and token federation."""
