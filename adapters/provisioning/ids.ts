/**
 * @module ids
 * Access-token ids derived from natural keys, so that importing or creating the same access token twice addresses the
 * same row (the import is idempotent). The id is public (lists, `access-tokens suspend ID`, audit events): it is
 * derived from the code's keyed digest, never from the clear code, and cannot be turned back into it.
 */
import { createHash } from 'node:crypto'

/** What identifies an access token within its organisation: its identifier, or the digest of its code. */
export type AccessTokenNaturalKey = { readonly identifier: string } | { readonly codeDigest: string }

/** 32 upper-case hex characters: the first half of sha256(organisation NUL ("identifier:" id | "code:" digest)). */
export const accessTokenId = (organisation: string, key: AccessTokenNaturalKey): string => {
  const credential = 'identifier' in key ? `identifier:${key.identifier}` : `code:${key.codeDigest}`
  return createHash('sha256').update(`${organisation}\u0000${credential}`, 'utf8').digest('hex').slice(0, 32).toUpperCase()
}
