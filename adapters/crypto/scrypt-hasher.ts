/**
 * @module scrypt-hasher
 * Pass-code hashing (docs/behaviour.md, the storage rules): salted scrypt, memory-hard, with its parameters stored in the hash string
 * (`scrypt$N=32768,r=8,p=1$<salt b64url>$<hash b64url>`), so hashes made under older defaults keep verifying after
 * the defaults change. All work runs on the libuv thread pool (async `scrypt`), never on the event loop.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto'
import type { PassCodeHasher } from '../../core/index.js'

export interface ScryptParams {
  /** CPU/memory cost: a power of two. Memory used is about 128 * N * r bytes. */
  readonly N: number
  /** Block size. */
  readonly r: number
  /** Parallelisation (sequential in Node: cost grows linearly, memory does not). */
  readonly p: number
  readonly saltBytes: number
  readonly keyBytes: number
}

/**
 * N = 2^15, r = 8: 32 MiB and about 90 ms per hash on a small 2-core server, about 20 verifications per second
 * with the default 4 thread-pool workers (128 MiB at peak). Pass codes are often short PINs, so the real defence
 * online is the per-identifier lock-out; scrypt makes a leaked table expensive to crack offline without letting a
 * burst of logins exhaust memory. Deployments with more headroom can raise N; old hashes keep their own N.
 */
export const DEFAULT_SCRYPT_PARAMS: ScryptParams = { N: 2 ** 15, r: 8, p: 1, saltBytes: 16, keyBytes: 32 }

/**
 * Bounds for both configured and stored parameters. A stored hash is data: a corrupt or planted row must not be
 * able to make one verification take seconds or gigabytes.
 */
const LIMITS = {
  maxN: 2 ** 20,
  maxR: 32,
  maxP: 16,
  /** 128 * N * r: the big scratch buffer scrypt allocates. */
  maxMemoryBytes: 256 * 1024 * 1024,
  minSaltBytes: 8,
  maxSaltBytes: 64,
  minKeyBytes: 16,
  maxKeyBytes: 64,
} as const

const isPowerOfTwo = (n: number): boolean => Number.isSafeInteger(n) && n >= 2 && (n & (n - 1)) === 0

/** Why the cost parameters are unacceptable, or undefined when they are within the limits. */
const costProblem = (N: number, r: number, p: number): string | undefined => {
  if (!isPowerOfTwo(N) || N > LIMITS.maxN) return `N must be a power of two from 2 to ${LIMITS.maxN}`
  if (!Number.isInteger(r) || r < 1 || r > LIMITS.maxR) return `r must be a whole number from 1 to ${LIMITS.maxR}`
  if (!Number.isInteger(p) || p < 1 || p > LIMITS.maxP) return `p must be a whole number from 1 to ${LIMITS.maxP}`
  if (128 * N * r > LIMITS.maxMemoryBytes) return `128 * N * r must not exceed ${LIMITS.maxMemoryBytes} bytes`
  return undefined
}

/**
 * OpenSSL refuses to run when its need exceeds `maxmem` (Node's default is 32 MiB, which N = 2^15, r = 8 just
 * exceeds). Its need is 128 * r * (N + 2) for V plus 128 * r * p for B; a little slack covers the rest.
 */
const maxmemFor = (N: number, r: number, p: number): number => 128 * r * (N + 2) + 128 * r * p + 64 * 1024

const derive = (passCode: string, salt: Buffer, keyBytes: number, N: number, r: number, p: number): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    scrypt(passCode, salt, keyBytes, { N, r, p, maxmem: maxmemFor(N, r, p) }, (err, key) => (err ? reject(err) : resolve(key)))
  })

interface ParsedHash {
  readonly N: number
  readonly r: number
  readonly p: number
  readonly salt: Buffer
  readonly hash: Buffer
}

const HASH_FORMAT = /^scrypt\$N=(\d{1,8}),r=(\d{1,3}),p=(\d{1,3})\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/

/** Strict base64url: only the canonical unpadded spelling decodes (Node's decoder would skip stray characters). */
const base64url = (text: string): Buffer | undefined => {
  const bytes = Buffer.from(text, 'base64url')
  return bytes.toString('base64url') === text ? bytes : undefined
}

/** The stored hash, or undefined when it is not one this hasher can check within its limits. */
const parseHash = (stored: string): ParsedHash | undefined => {
  const m = HASH_FORMAT.exec(stored)
  if (!m) return undefined
  const [N, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])]
  if (costProblem(N, r, p) !== undefined) return undefined
  const salt = base64url(m[4] ?? '')
  const hash = base64url(m[5] ?? '')
  if (!salt || salt.length < LIMITS.minSaltBytes || salt.length > LIMITS.maxSaltBytes) return undefined
  if (!hash || hash.length < LIMITS.minKeyBytes || hash.length > LIMITS.maxKeyBytes) return undefined
  return { N, r, p, salt, hash }
}

const formatHash = (N: number, r: number, p: number, salt: Buffer, hash: Buffer): string =>
  `scrypt$N=${N},r=${r},p=${p}$${salt.toString('base64url')}$${hash.toString('base64url')}`

const checkParams = (params: ScryptParams): void => {
  const problem =
    costProblem(params.N, params.r, params.p) ??
    (!Number.isInteger(params.saltBytes) || params.saltBytes < 16 || params.saltBytes > LIMITS.maxSaltBytes
      ? `saltBytes must be a whole number from 16 to ${LIMITS.maxSaltBytes}`
      : !Number.isInteger(params.keyBytes) || params.keyBytes < LIMITS.minKeyBytes || params.keyBytes > LIMITS.maxKeyBytes
        ? `keyBytes must be a whole number from ${LIMITS.minKeyBytes} to ${LIMITS.maxKeyBytes}`
        : undefined)
  if (problem !== undefined) throw new RangeError(`Invalid scrypt parameters: ${problem}`)
}

export const scryptHasher = (overrides: Partial<ScryptParams> = {}): PassCodeHasher => {
  const params: ScryptParams = { ...DEFAULT_SCRYPT_PARAMS, ...overrides }
  checkParams(params)
  const { N, r, p, saltBytes, keyBytes } = params

  const verify = async (passCode: string, stored: string): Promise<boolean> => {
    // Bad data answers false, never an exception: the caller treats every failure alike (INVALIDACCESSTOKEN).
    const parsed = typeof stored === 'string' && typeof passCode === 'string' ? parseHash(stored) : undefined
    if (!parsed) return false
    try {
      const candidate = await derive(passCode, parsed.salt, parsed.hash.length, parsed.N, parsed.r, parsed.p)
      return timingSafeEqual(candidate, parsed.hash)
    } catch {
      return false
    }
  }

  /**
   * A hash of nothing anyone knows, in today's parameters: random salt and random "hash", made once without any
   * scrypt work. Verifying against it runs the same code as a real verification (parse, derive, compare), so an
   * unknown identifier costs what a wrong pass code costs.
   */
  const dummyHash = formatHash(N, r, p, randomBytes(saltBytes), randomBytes(keyBytes))

  return {
    async hash(passCode: string): Promise<string> {
      const salt = randomBytes(saltBytes)
      return formatHash(N, r, p, salt, await derive(passCode, salt, keyBytes, N, r, p))
    },
    verify,
    async verifyDummy(passCode: string): Promise<false> {
      await verify(passCode, dummyHash)
      return false
    },
  }
}
