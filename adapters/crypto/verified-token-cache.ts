/**
 * @module verified-token-cache
 * Tokens whose signature already verified, by their exact text, so that a service seeing the same session token on
 * every request checks its ES256/EdDSA signature once, not per request. Sound because a signature check is a pure
 * function of the token's bytes and the key: an entry answers only for the key set it was verified with (a new
 * fetch, which may withdraw keys, empties the cache in effect), and only until the token's `exp` plus the tolerance.
 * Bounded: the entries not used for longest go when it is full.
 */
import { EXPIRY_TOLERANCE_SECONDS, type SessionVerification } from '../../core/index.js'

export interface VerifiedTokenCache<Generation> {
  /** The verification of `token` if it verified with `generation` and has not expired at `now`. */
  get(token: string, generation: Generation, now: number): SessionVerification | undefined
  /**
   * Keeps a successful verification of a token not expired at `now`, at most until `notAfter` (its key's last second,
   * say). Refusals are not kept: they cost the same either way.
   */
  set(token: string, generation: Generation, verification: SessionVerification, now: number, notAfter?: number): void
  readonly size: number
}

/** The `exp` of a verified payload as the core reads it (a number, or digits), or undefined. */
const expiryOf = (payload: unknown): number | undefined => {
  const exp = typeof payload === 'object' && payload !== null ? (payload as { exp?: unknown }).exp : undefined
  const n = typeof exp === 'number' ? exp : typeof exp === 'string' && /^\d{1,15}$/.test(exp) ? Number(exp) : NaN
  return Number.isSafeInteger(n) ? n : undefined
}

interface Entry<Generation> {
  readonly generation: Generation
  readonly verification: SessionVerification
  readonly until: number
}

/**
 * Two generations of at most half the bound each: a hit in the older one moves the entry to the newer, and when the
 * newer is full the older is dropped whole. So the entries not used for longest go first, and a hit costs one Map
 * look-up. (Re-inserting on every hit, `delete` then `set`, is the textbook LRU on a Map, and cost 25 µs a call on a
 * Map of 10 000 entries here: V8 rehashes the table as the deleted slots pile up.)
 */
export const verifiedTokenCache = <Generation>(maxEntries: number): VerifiedTokenCache<Generation> => {
  const half = Math.max(1, Math.ceil(maxEntries / 2))
  let recent = new Map<string, Entry<Generation>>()
  let older = new Map<string, Entry<Generation>>()
  const keep = (token: string, entry: Entry<Generation>): void => {
    recent.set(token, entry)
    if (recent.size >= half) {
      older = recent
      recent = new Map()
    }
  }
  return {
    get(token, generation, now) {
      const fromRecent = recent.get(token)
      const entry = fromRecent ?? older.get(token)
      if (entry === undefined) return undefined
      if (entry.generation !== generation || now >= entry.until) {
        recent.delete(token)
        older.delete(token)
        return undefined
      }
      if (fromRecent === undefined) {
        older.delete(token)
        keep(token, entry)
      }
      return entry.verification
    },
    set(token, generation, verification, now, notAfter = Infinity) {
      if (maxEntries <= 0 || !verification.ok) return
      const exp = expiryOf(verification.payload)
      // A payload without a readable exp, or an expired one, is refused by the core anyway: keeping it would only
      // push out tokens that are in use.
      const until = exp === undefined ? -Infinity : Math.min(exp + EXPIRY_TOLERANCE_SECONDS, notAfter)
      if (now >= until) return
      older.delete(token)
      keep(token, { generation, verification, until })
    },
    get size() {
      return recent.size + older.size
    },
  }
}
