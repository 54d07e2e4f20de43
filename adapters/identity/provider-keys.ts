/**
 * @module provider-keys
 * The configured identity providers, grouped by issuer with their JWKS ready for jose, cached for a short time so
 * that the hot path neither asks the store nor rebuilds key sets on every identity-JWT login.
 */
import { createLocalJWKSet, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose'
import type { Clock, IdentityProvider } from '../../core/index.js'

export interface ProviderKeys {
  readonly issuer: string
  readonly audience: string
  /** Undefined when the provider's JWKS is unusable: its tokens are then refused, not the whole request failed. */
  readonly keys: JWTVerifyGetKey | undefined
}

/** Only asymmetric key types: a symmetric (`oct`) key in a provider's JWKS could only ever serve an HS* attack. */
const ASYMMETRIC_KTY = new Set(['RSA', 'EC', 'OKP'])

const keySetOf = (provider: IdentityProvider): JWTVerifyGetKey | undefined => {
  try {
    return createLocalJWKSet({ keys: provider.jwks.keys.filter((k) => ASYMMETRIC_KTY.has(String(k['kty']))) as unknown as JSONWebKeySet['keys'] })
  } catch {
    return undefined
  }
}

/**
 * Answers the providers by issuer, from a cache at most `cacheSeconds` old (0: no cache). Key sets are reused
 * across refreshes while a provider's JWKS is unchanged, so jose's per-key import cache survives them too.
 * A failing `providers()` (the store is down) rejects, and is not cached: the next call tries again.
 */
export const providerKeysCache = (
  providers: () => Promise<ReadonlyArray<IdentityProvider>>,
  clock: Clock,
  cacheSeconds: number,
): (() => Promise<ReadonlyMap<string, ReadonlyArray<ProviderKeys>>>) => {
  let cached: { readonly at: number; readonly byIssuer: ReadonlyMap<string, ReadonlyArray<ProviderKeys>> } | undefined
  let loading: Promise<ReadonlyMap<string, ReadonlyArray<ProviderKeys>>> | undefined
  let keySets = new Map<string, JWTVerifyGetKey | undefined>()

  const load = async (): Promise<ReadonlyMap<string, ReadonlyArray<ProviderKeys>>> => {
    const at = clock.nowSeconds()
    const list = await providers()
    const nextKeySets = new Map<string, JWTVerifyGetKey | undefined>()
    const byIssuer = new Map<string, ProviderKeys[]>()
    for (const p of list) {
      const fingerprint = JSON.stringify(p.jwks)
      const keys = keySets.has(fingerprint) ? keySets.get(fingerprint) : keySetOf(p)
      nextKeySets.set(fingerprint, keys)
      const group = byIssuer.get(p.issuer) ?? []
      group.push({ issuer: p.issuer, audience: p.audience, keys })
      byIssuer.set(p.issuer, group)
    }
    keySets = nextKeySets
    cached = { at, byIssuer }
    return byIssuer
  }

  return () => {
    const now = clock.nowSeconds()
    // A clock that went backwards (a test clock, a corrected host) also refreshes.
    if (cached && now - cached.at < cacheSeconds && now >= cached.at) return Promise.resolve(cached.byIssuer)
    // Concurrent logins after expiry share one store query.
    loading ??= load().finally(() => {
      loading = undefined
    })
    return loading
  }
}
