"""Bearer tokens: Ed25519-signed JWTs (`alg: EdDSA`) with a `kid`, verified against a JWKS.

One idea per module:

- `keys`     Ed25519 key pairs as PEM and JWK, JWKS documents, the development key directory;
- `tokens`   minting a signed access token;
- `verifier` `Principal` and `JwtVerifier` (PyJWT's `PyJWKSet`, EdDSA only);
- `requests` reading the bearer token of a request and guarding a route with it;
- `__main__` `python -m brigade_common.auth keygen|token`.
"""
