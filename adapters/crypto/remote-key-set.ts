/**
 * @module remote-key-set
 * The public keys a consumer-auth publishes at `/.well-known/jwks.json`, fetched and kept for an embedding service
 * for as long as the server's `Cache-Control: max-age` allows (60 s when it says nothing), never longer than a cap.
 * That freshness is the bound on how long a key the server withdrew (a leaked key) is still accepted here: once it
 * has passed, nothing is verified with the old set, and a key set that cannot be fetched again makes verification
 * fail as unavailable, never fall back on stale keys.
 */
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto'
import type { Clock } from '../../core/index.js'
import { keyLookup, type KeyLookup, type VerifyingKey } from './compact-jws.js'
import { asymmetricCheck, encodeHeader, publicKeyVerifier } from './signing-key.js'

/** The algorithms a published key can have; HS256 keys are never published. */
export const JWKS_ALGORITHMS = ['ES256', 'EdDSA'] as const
type JwksAlgorithm = (typeof JWKS_ALGORITHMS)[number]

export interface RemoteKeySetOptions {
  /** The most seconds a fetched key set is used, whatever the server's max-age says (default 300). */
  readonly cacheSeconds?: number
  /** The least time between two fetches caused by unknown kids, in seconds (default 30). */
  readonly cooldownSeconds?: number
  /** How long a fetch may take, in seconds (default 5). */
  readonly timeoutSeconds?: number
}

/** How long keys are kept when the server sends no max-age. */
const DEFAULT_MAX_AGE_SECONDS = 60
const DEFAULT_CAP_SECONDS = 300

export interface KeySet {
  readonly lookup: KeyLookup
  /** Seconds: used until then, and fetched again ahead of it (from `refreshAt`) so that no request waits. */
  readonly freshUntil: number
  readonly refreshAt: number
}

export interface RemoteKeySet {
  /** The current key set if it is still fresh (a refresh ahead of its expiry may start), else undefined. */
  fresh(): KeySet | undefined
  /** Fetches the key set (one fetch however many callers wait); rejects when it cannot be fetched or read. */
  load(): Promise<KeySet>
  /** After a token named a kid the set does not hold: fetches again, unless one such fetch ran in the cooldown. */
  reloadForUnknownKid(): Promise<KeySet | undefined>
}

/** The verifying key of one published JWK, or undefined for a JWK this verifier does not use. */
const keyOf = (jwk: Record<string, unknown>): VerifyingKey | undefined => {
  const { kid, alg, use } = jwk
  if (typeof kid !== 'string' || !JWKS_ALGORITHMS.includes(alg as JwksAlgorithm)) return undefined
  // A JWK with private members has no place in a published set; one for another use does not verify signatures.
  if (jwk['d'] !== undefined || (use !== undefined && use !== 'sig')) return undefined
  let publicKey: KeyObject
  try {
    publicKey = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' })
  } catch {
    return undefined
  }
  const expected = asymmetricCheck[alg as JwksAlgorithm]
  if (publicKey.asymmetricKeyType !== expected.type || publicKey.asymmetricKeyDetails?.namedCurve !== expected.curve) return undefined
  return { kid, alg: alg as JwksAlgorithm, encodedHeader: encodeHeader(alg as JwksAlgorithm, kid), verifySignature: publicKeyVerifier(alg as JwksAlgorithm, publicKey) }
}

/** The keys of a JWKS document; a kid published twice names no single key and is left out. */
const keysOfJwks = (document: unknown): ReadonlyArray<VerifyingKey> => {
  const list = typeof document === 'object' && document !== null ? (document as { keys?: unknown }).keys : undefined
  if (!Array.isArray(list)) throw new Error('the JWKS is not a JSON object with a keys array')
  const keys = list.filter((k): k is Record<string, unknown> => typeof k === 'object' && k !== null).map(keyOf)
  const count = new Map<string, number>()
  for (const k of keys) if (k) count.set(k.kid, (count.get(k.kid) ?? 0) + 1)
  return keys.filter((k): k is VerifyingKey => k !== undefined && count.get(k.kid) === 1)
}

/**
 * Seconds the answer may be used: its `max-age` less its `Age` (time it already spent in an HTTP cache), 0 for
 * `no-store`/`no-cache`, `fallback` when it says nothing.
 */
const freshnessOf = (cacheControl: string | null, age: string | null, fallback: number): number => {
  if (cacheControl === null) return fallback
  if (/(?:^|,)\s*(?:no-store|no-cache)\s*(?:,|$|=)/i.test(cacheControl)) return 0
  const m = /(?:^|,)\s*max-age\s*=\s*"?(\d+)"?\s*(?:,|$)/i.exec(cacheControl)
  if (!m) return fallback
  const spent = age !== null && /^\d+$/.test(age.trim()) ? Number(age.trim()) : 0
  return Math.max(0, Number(m[1]) - spent)
}

export const remoteKeySet = (url: URL, options: RemoteKeySetOptions, clock: Clock): RemoteKeySet => {
  const cap = Math.max(1, options.cacheSeconds ?? DEFAULT_CAP_SECONDS)
  const cooldown = Math.max(0, options.cooldownSeconds ?? 30)
  const timeoutMs = Math.max(0.1, options.timeoutSeconds ?? 5) * 1000
  let current: KeySet | undefined
  let fetching: Promise<KeySet> | undefined
  let lastUnknownKidFetch = -Infinity

  const fetchKeySet = async (): Promise<KeySet> => {
    const fetchedAt = clock.nowSeconds()
    const res = await fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(timeoutMs) })
    if (!res.ok) throw new Error(`the JWKS answered HTTP ${res.status}`)
    const lookup = keyLookup(keysOfJwks(await res.json()))
    // At least a second, so that a server asking for no caching costs one fetch per second, not one per request.
    const freshness = Math.max(1, Math.min(cap, freshnessOf(res.headers.get('cache-control'), res.headers.get('age'), DEFAULT_MAX_AGE_SECONDS)))
    return { lookup, freshUntil: fetchedAt + freshness, refreshAt: fetchedAt + Math.floor(freshness * 0.75) }
  }

  const load = (): Promise<KeySet> =>
    (fetching ??= fetchKeySet().then(
      (set) => {
        current = set
        fetching = undefined
        return set
      },
      (e: unknown) => {
        fetching = undefined
        throw e
      },
    ))

  return {
    fresh() {
      const now = clock.nowSeconds()
      if (current === undefined || now >= current.freshUntil) return undefined
      // Ahead of expiry, in the background: a failure here is retried by the next request, and at expiry it counts.
      if (now >= current.refreshAt && fetching === undefined) load().catch(() => undefined)
      return current
    },
    load,
    async reloadForUnknownKid() {
      const now = clock.nowSeconds()
      if (now - lastUnknownKidFetch < cooldown && fetching === undefined) return undefined
      lastUnknownKidFetch = now
      return load()
    },
  }
}
