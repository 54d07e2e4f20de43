/**
 * @module hmac-digest
 * Keyed digests of Web API keys and authentication codes (docs/behaviour.md, the storage rules): HMAC-SHA256 with the deployment's secret
 * pepper, as lower-case hex. Deterministic, so a presented secret can be looked up by its digest; keyed, so a
 * leaked database alone does not allow the (often guessable) codes to be brute-forced.
 */
import { createHmac } from 'node:crypto'
import type { SecretDigest } from '../../core/index.js'

/** 256 bits: as strong as the HMAC-SHA256 output itself. */
const MIN_PEPPER_BYTES = 32

export const hmacDigest = (pepper: Uint8Array): SecretDigest => {
  if (pepper.byteLength < MIN_PEPPER_BYTES) {
    // The length is not secret; the pepper itself never appears in a message.
    throw new RangeError(`The digest pepper must be at least ${MIN_PEPPER_BYTES} bytes; it has ${pepper.byteLength}`)
  }
  // A private copy: a caller that later zeroes or reuses its buffer cannot change every digest silently.
  // A plain Buffer key is measurably faster than a KeyObject for createHmac.
  const key = Buffer.from(pepper)
  return {
    // The secret's exact UTF-8 bytes: any normalisation is a rule of the core, not of this adapter.
    digest: (secret) => createHmac('sha256', key).update(secret, 'utf8').digest('hex'),
  }
}
