/**
 * @module identity-verifier
 * The IdentityVerifier port: an identity-provider JWT (docs/behaviour.md, the method: IdentityJwt mode) is matched to the configured
 * provider of its issuer and verified against it. Bad tokens answer `{ ok: false }`; only a failing provider
 * source (the store is down) rejects.
 */
import { decodeJwt } from 'jose'
import type { Clock, IdentityProvider, IdentityVerification, IdentityVerifier } from '../../core/index.js'
import { providerKeysCache } from './provider-keys.js'
import { DEFAULT_IDENTITY_MAX_LIFETIME_SECONDS, verifyIdentityJwt } from './verify-identity-jwt.js'

export interface IdentityVerifierOptions {
  /** How long the provider list and key sets are reused, in seconds (default 30; 0 asks the store every time). */
  readonly cacheSeconds?: number
  /** The longest an identity token may live (`exp - iat`, or `exp - now` without `iat`), in seconds (default 86400). */
  readonly maxLifetimeSeconds?: number
}

const refuse = (reason: string): IdentityVerification => ({ ok: false, reason })

export const identityVerifier = (
  providers: () => Promise<ReadonlyArray<IdentityProvider>>,
  clock: Clock,
  options: IdentityVerifierOptions = {},
): IdentityVerifier => {
  const byIssuer = providerKeysCache(providers, clock, Math.max(0, options.cacheSeconds ?? 30))
  const maxLifetime = options.maxLifetimeSeconds ?? DEFAULT_IDENTITY_MAX_LIFETIME_SECONDS
  return {
    async verify(jwt: string): Promise<IdentityVerification> {
      // No length bound here: the request's `jwt` is held to the core's MAX_JWT_LENGTH before any port sees it.
      if (typeof jwt !== 'string' || jwt === '') return refuse('no identity token was given')
      // The unverified issuer only selects which provider's keys to try; everything is then verified against them.
      let issuer: unknown
      try {
        issuer = decodeJwt(jwt).iss
      } catch {
        return refuse('the identity token is not a JWT')
      }
      if (typeof issuer !== 'string') return refuse('the identity token has no issuer')
      const candidates = (await byIssuer()).get(issuer)
      if (!candidates || candidates.length === 0) return refuse('the identity token issuer is not a configured identity provider')
      let firstReason: string | undefined
      // Usually one provider per issuer; several (one issuer, several audiences) are tried in turn.
      for (const provider of candidates) {
        const r = await verifyIdentityJwt(jwt, provider, clock.nowSeconds(), maxLifetime)
        if (r.ok) return r
        firstReason ??= r.reason
      }
      return refuse(firstReason ?? 'the identity token cannot be verified')
    },
  }
}
